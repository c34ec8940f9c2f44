import { Controller, Get } from '@nestjs/common';
import { PublicRoute } from 'nest-service-auth';

@Controller('health')
@PublicRoute()
export class HealthController {
  @Get()
  check() {
    return { status: 'ok' };
  }
}

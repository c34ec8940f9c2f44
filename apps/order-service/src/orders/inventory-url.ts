import type { ConfigService } from '@nestjs/config';

export function inventoryUrl(config: ConfigService): string {
  return (config.get<string>('INVENTORY_URL') ?? 'http://127.0.0.1:8082').replace(/\/+$/, '');
}

import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { SignedHttpService } from './signed-http.service.js';

/**
 * Provides SignedHttpService to the modules that import it. Its credential comes from ServiceAuthKeys
 * and its settings from ServiceAuthModule's `client` options, so ServiceAuthModule must be registered
 * in the application (globally, its default).
 *
 * A module of its own, exported by the `nest-service-auth/client` entry: it is the only part of the
 * library that needs @nestjs/axios and axios, which a service that is only called never installs.
 */
@Module({
  imports: [HttpModule],
  providers: [SignedHttpService],
  exports: [SignedHttpService],
})
export class SignedHttpModule {}

import { SetMetadata } from '@nestjs/common';
import { TRUSTED_CALLERS_METADATA } from '../options/service-auth.constants.js';

/**
 * Restricts a controller or a handler to the named callers. On a handler it replaces the
 * controller's list (the most specific declaration wins); without it, any configured caller that
 * authenticates is accepted. Every id must be a configured caller, or the app refuses to start.
 */
export const TrustedCaller = (...callerIds: string[]) => SetMetadata(TRUSTED_CALLERS_METADATA, callerIds);

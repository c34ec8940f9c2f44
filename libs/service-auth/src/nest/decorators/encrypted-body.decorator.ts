import { SetMetadata } from '@nestjs/common';
import { ENCRYPTION_POLICY_METADATA } from '../options/service-auth.constants.js';
import type { EncryptionPolicy } from '../options/service-auth-options.interface.js';

/**
 * Sets the encryption policy of a controller or handler (the handler wins):
 * `required` refuses plaintext bodies with 415 `encryption_required`; `optional` accepts both;
 * `off` leaves application/jose bodies alone. Without it, the module's `encryption` option applies.
 */
export const EncryptedBody = (policy: EncryptionPolicy = 'required') => SetMetadata(ENCRYPTION_POLICY_METADATA, policy);

/**
 * `nest-service-auth/microservices`: signed messages over Nest microservice transports (TCP, Redis,
 * NATS, RabbitMQ, …), the calling side.
 *
 *   imports: [SignedClientsModule.register({ serviceId: 'order-service',
 *     clients: [{ name: 'INVENTORY', upstream: 'inventory-service', transport: Transport.TCP, options: { port: 4001 } }] })]
 *   constructor(@Inject('INVENTORY') private readonly inventory: SignedClientProxy) {}
 *
 * The called side needs nothing from here: ServiceAuthModule's guard verifies @MessagePattern and
 * @EventPattern handlers. An entry of its own because it needs the peer @nestjs/microservices.
 */
export { SignedClientsModule } from './nest/messaging/signed-clients.module.js';
export { SignedClientProxy } from './nest/messaging/signed-client-proxy.js';
export type { SignedClientsModuleOptions, SignedClientDefinition } from './nest/messaging/signed-clients-options.js';
export { MessageAnswerRefusedError, type MessageAnswerRefusedReason } from './messages/message-answer-refused.error.js';

/** The Config type, inferred from the schema so the two can never disagree. */
import type { Infer } from './dsl.js';
import type { gatewaySchema } from './schema/gateways.js';
import type { hostSchema } from './schema/host.js';
import type { pingSchema } from './schema/ping.js';
import type { rootSchema } from './schema/root.js';

export type Config = Infer<typeof rootSchema>;
export type HostConfig = Infer<typeof hostSchema>;
export type PingConfig = Infer<typeof pingSchema>;
export type GatewayConfig = Infer<typeof gatewaySchema>;

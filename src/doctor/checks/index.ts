import type { DoctorCheck } from '../check.js'
import { bodyReachesServer } from './body-reaches-server.js'
import { doorChat } from './door-chat.js'
import { gatewaysListening } from './gateways-listening.js'
import { modelName } from './model-name.js'
import { pdConfig } from './pd-config.js'
import { pickerConsulted } from './picker-consulted.js'
import { poolsReady } from './pools-ready.js'
import { prefixCacheHits } from './prefix-cache-hits.js'
import { prefixCachingEnabled } from './prefix-caching-enabled.js'
import { routesResolved } from './routes-resolved.js'
import { upstreamTls } from './upstream-tls.js'

/** In the seeds' order: from the front door in to the model server, then end to end. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  gatewaysListening,
  routesResolved,
  poolsReady,
  pickerConsulted,
  bodyReachesServer,
  upstreamTls,
  pdConfig,
  prefixCachingEnabled,
  prefixCacheHits,
  modelName,
  doorChat,
]

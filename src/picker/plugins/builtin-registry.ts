import { PluginRegistry } from '../framework/registry.js'
import { activeRequestScorer } from './active-request-scorer.js'
import { alwaysDisaggMultimodalDecider } from './always-disagg-multimodal-decider.js'
import { alwaysDisaggPdDecider } from './always-disagg-pd-decider.js'
import { approxPrefixCacheProducer } from './approx-prefix-cache-producer.js'
import { byLabel } from './by-label.js'
import { coreMetricsExtractor } from './core-metrics-extractor.js'
import { decodeFilter } from './decode-filter.js'
import { disaggHeadersHandler } from './disagg-headers-handler.js'
import { disaggProfileHandler } from './disagg-profile-handler.js'
import { encodeFilter } from './encode-filter.js'
import { kvCacheUtilizationScorer } from './kv-cache-utilization-scorer.js'
import { labelSelectorFilter } from './label-selector-filter.js'
import { loadAwareScorer } from './load-aware-scorer.js'
import { loraAffinityScorer } from './lora-affinity-scorer.js'
import { maxScorePicker } from './max-score-picker.js'
import { metricsDataSource } from './metrics-data-source.js'
import { noHitLruScorer } from './no-hit-lru-scorer.js'
import { pdProfileHandler } from './pd-profile-handler.js'
import { prefillFilter } from './prefill-filter.js'
import { prefillHeaderHandler } from './prefill-header-handler.js'
import { prefixBasedPdDecider } from './prefix-based-pd-decider.js'
import { prefixCacheAffinityFilter } from './prefix-cache-affinity-filter.js'
import { precisePrefixCacheProducer } from './precise-prefix-cache-producer.js'
import { precisePrefixCacheScorer } from './precise-prefix-cache-scorer.js'
import { prefixCacheScorer } from './prefix-cache-scorer.js'
import { queueScorer } from './queue-scorer.js'
import { randomPicker } from './random-picker.js'
import { runningRequestsSizeScorer } from './running-requests-size-scorer.js'
import { sessionAffinityScorer } from './session-affinity-scorer.js'
import { singleProfileHandler } from './single-profile-handler.js'
import { tokenLoadScorer } from './token-load-scorer.js'
import { utilizationDetector } from './utilization-detector.js'
import { weightedRandomPicker } from './weighted-random-picker.js'

/** Every plugin maitred implements, by config type. */
export const builtinRegistry = new PluginRegistry()
  .register(singleProfileHandler)
  .register(pdProfileHandler)
  .register(disaggProfileHandler)
  .register(prefixBasedPdDecider)
  .register(alwaysDisaggPdDecider)
  .register(alwaysDisaggMultimodalDecider)
  .register(decodeFilter)
  .register(prefillFilter)
  .register(encodeFilter)
  .register(labelSelectorFilter)
  .register(byLabel)
  .register(prefixCacheAffinityFilter)
  .register(queueScorer)
  .register(runningRequestsSizeScorer)
  .register(kvCacheUtilizationScorer)
  .register(prefixCacheScorer)
  .register(approxPrefixCacheProducer)
  .register(precisePrefixCacheProducer)
  .register(precisePrefixCacheScorer)
  .register(loadAwareScorer)
  .register(activeRequestScorer)
  .register(sessionAffinityScorer)
  .register(noHitLruScorer)
  .register(loraAffinityScorer)
  .register(tokenLoadScorer)
  .register(maxScorePicker)
  .register(randomPicker)
  .register(weightedRandomPicker)
  .register(prefillHeaderHandler)
  .register(disaggHeadersHandler)
  .register(utilizationDetector)
  .register(metricsDataSource)
  .register(coreMetricsExtractor)

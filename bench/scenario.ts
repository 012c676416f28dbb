// What every scenario module exports, and what it is given.
import type { ScenarioOutcome } from './report.js'
import type { Settings } from './settings.js'

export interface ScenarioContext {
  settings: Settings
  /** Progress for whoever watches the run (stderr), not part of the one-line result. */
  log(message: string): void
}

export type Scenario = (context: ScenarioContext) => Promise<ScenarioOutcome>

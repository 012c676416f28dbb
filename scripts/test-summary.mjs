// Prints the test runner's counts from Vitest's JSON report as the closing line CI reads: "N passed, N failed".
import { readFileSync } from 'node:fs'

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0)
const skipped = report.numPendingTests + report.numTodoTests
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)

// Prints the test runner's counts from Vitest's JSON report as the closing line CI reads: "N passed, N failed".
// A file that failed outside its tests (a hook that timed out, an error at import) counts as one failure:
// otherwise a run could end "N passed, 0 failed" and still exit non-zero.
import { readFileSync } from 'node:fs'

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const filesFailedOutsideTests = report.testResults.filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
).length
const failed = report.numFailedTests + filesFailedOutsideTests
const skipped = report.numPendingTests + report.numTodoTests
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)

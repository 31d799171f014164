/**
 * Runs cleanup steps in order, each even when an earlier one failed, and reports every failure.
 * Shutdown uses it in the reverse order of start-up.
 */

export interface CloseStep {
  readonly name: string;
  run(): Promise<void> | void;
}

export interface CloseFailure {
  readonly step: string;
  readonly error: unknown;
}

/** Runs every step; resolves with the failures (empty when all went well). Never rejects. */
export async function closeAll(steps: readonly CloseStep[]): Promise<CloseFailure[]> {
  const failures: CloseFailure[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (error) {
      failures.push({ step: step.name, error });
    }
  }
  return failures;
}

import { z } from 'zod';

/** The part of a Kubernetes status condition the checks read; other keys are allowed and ignored. */
const Condition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** `kubectl get nodes -o json` and `kubectl get pods -o json` both print a List of objects shaped like this. */
const ObjectList = z.looseObject({
  items: z.array(
    z.looseObject({
      metadata: z.looseObject({ name: z.string() }),
      status: z
        .looseObject({
          phase: z.string().optional(),
          conditions: z.array(Condition).optional(),
        })
        .optional(),
    }),
  ),
});

/** One node or pod, reduced to what a smoke step reports about it. */
export interface ReadinessSummary {
  name: string;
  ready: boolean;
  /** Why it is not Ready (the Ready condition's reason, or the pod phase); undefined when it is. */
  reason: string | undefined;
}

/**
 * Parses a `-o json` list into each item's readiness (its `Ready` condition is `True`). Undefined when the
 * output is not such a list, which the caller reports rather than guesses at.
 */
export function parseReadinessList(stdout: string): ReadinessSummary[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim() || 'null');
  } catch {
    return undefined;
  }
  const parsed = ObjectList.safeParse(json);
  if (!parsed.success) return undefined;
  return parsed.data.items.map((item) => {
    const readyCondition = item.status?.conditions?.find((c) => c.type === 'Ready');
    const ready = readyCondition?.status === 'True';
    const reason = ready
      ? undefined
      : (readyCondition?.reason ??
        item.status?.phase ??
        (readyCondition ? 'not ready' : 'no Ready condition'));
    return { name: item.metadata.name, ready, reason };
  });
}

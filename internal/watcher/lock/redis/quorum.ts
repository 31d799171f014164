/**
 * Voting over N independent lock servers (the Redlock scheme). A single server is a quorum of one:
 * the same rules then reduce to "its answer decides".
 *
 * - A slot is **won** when at least Q = floor(N/2) + 1 servers accepted the claim. Two instances can
 *   never both reach Q for one key while the claims live: two majorities of N share a server, and a
 *   server holds one value per key.
 * - A loser holding the key on some servers gives those back (compare-and-delete on its own token),
 *   which cannot let a second instance reach Q while a winner exists: the winner's Q values stay. It
 *   only undoes split votes (three instances each holding one server of three); the caller retries.
 *   When one other token already holds Q servers, the slot is taken and there is nothing to retry.
 * - Fewer than Q servers answering is "unavailable": the slot is skipped, never run without a claim.
 * - A lease is extended by majority, and lost when so many servers hold another value (or none)
 *   that a majority is out of reach.
 */

/** Votes needed out of `servers`: a strict majority. */
export function quorum(servers: number): number {
  return Math.floor(servers / 2) + 1;
}

/** One server's answer to one item: its reply, or the error of its call. */
export type Vote =
  { readonly ok: true; readonly reply: unknown } | { readonly ok: false; readonly error: unknown };

/** Asks every server; one vote each, in server order. Never rejects. */
export function poll<S>(servers: readonly S[], ask: (server: S) => Promise<unknown>): Promise<Vote[]> {
  return Promise.all(
    servers.map((s) =>
      ask(s).then(
        (reply): Vote => ({ ok: true, reply }),
        (error: unknown): Vote => ({ ok: false, error }),
      ),
    ),
  );
}

/** The error of the first server that failed (undefined when all answered). */
export function firstError(votes: readonly Vote[]): unknown {
  for (const v of votes) if (!v.ok) return v.error;
  return undefined;
}

/** The replies of the servers that answered. @throws the first error when fewer than a quorum did. */
export function answersOfQuorum(votes: readonly Vote[]): unknown[] {
  const replies = votes.flatMap((v) => (v.ok ? [v.reply] : []));
  if (replies.length < quorum(votes.length)) throw firstError(votes);
  return replies;
}

/**
 * What a round of CLAIM votes decided (see `scripts/claim.ts` for the replies). `partial`: the
 * caller's token holds keys on some servers without a quorum, to be given back.
 */
export type ClaimVerdict =
  /** The claim holds on a quorum (a lease alone: the lease does). `leased`: so does the lease. */
  | { readonly kind: 'won'; readonly leased: boolean; readonly partial: boolean }
  /** Another token holds a quorum (a lease alone: the lease is held, by anyone). */
  | { readonly kind: 'taken'; readonly partial: boolean }
  /** Nobody holds a quorum: worth another round. */
  | { readonly kind: 'split'; readonly partial: boolean }
  /** Fewer than a quorum answered. */
  | { readonly kind: 'unavailable'; readonly partial: boolean; readonly error: unknown };

/** Counts a round of CLAIM votes. `claim` false: the round asked for a lease alone. */
export function judgeClaim(votes: readonly Vote[], claim: boolean): ClaimVerdict {
  return judgeClaimAt(votes, undefined, claim);
}

/**
 * {@link judgeClaim} for item `i` of a batch, read from each server's answer to the whole batch
 * (`i` undefined: each vote is the reply itself). Reads in place: a batch of a thousand claims
 * makes no array of votes per item.
 */
export function judgeClaimAt(answers: readonly Vote[], i: number | undefined, claim: boolean): ClaimVerdict {
  const need = quorum(answers.length);
  let won = 0;
  let leased = 0;
  let answered = 0;
  /** Servers per value that holds the key instead of our token. */
  let others: Map<unknown, number> | undefined;
  for (const v of answers) {
    if (!v.ok) continue;
    answered += 1;
    const reply = i === undefined ? v.reply : (v.reply as readonly unknown[])[i];
    if (reply === 1) leased += 1;
    if (reply === 1 || reply === 2) won += 1;
    else (others ??= new Map()).set(reply, (others.get(reply) ?? 0) + 1);
  }
  if (won >= need) return { kind: 'won', leased: leased >= need, partial: leased > 0 && leased < need };
  const partial = won > 0;
  if (answered < need) return { kind: 'unavailable', partial, error: firstError(answers) };
  const decided = !claim || [...(others?.values() ?? [])].some((n) => n >= need);
  return { kind: decided ? 'taken' : 'split', partial };
}

/** What a round of EXTEND votes decided. */
export type ExtendVerdict = 'extended' | 'lost' | 'unanswered';

/** Counts a round of EXTEND votes (`1` = extended, `0` = not ours). */
export function judgeExtend(votes: readonly Vote[]): ExtendVerdict {
  const need = quorum(votes.length);
  const ours = votes.filter((v) => v.ok && v.reply === 1).length;
  const notOurs = votes.filter((v) => v.ok && v.reply !== 1).length;
  if (ours >= need) return 'extended';
  return notOurs > votes.length - need ? 'lost' : 'unanswered';
}

// The fake Slack Web API in a process of its own (see remote-fake-slack.ts), so that what it keeps (its call
// journal, messages, files) neither costs the measured process CPU nor shows up in its memory.
import { startFakeSlack } from '../../test/fakes/slack/fake-slack.js';

const USERS = ['U0ALICE', 'U0BOB', 'U0ADMIN'];
const CHANNELS = [
  ['C0APPROVALS', 'sandbox-approvals'],
  ['C0AUDIT', 'sandbox-audit'],
  ['C0GENERAL', 'general'],
] as const;

if (!process.send) {
  console.error('fake-slack-child: fork me with IPC (see bench/lib/remote-fake-slack.ts)');
  process.exit(2);
}

// Slack takes 5 messages per response_url; the benchmarks reuse 16 URLs for every request instead of minting one
// per request, so the limit is lifted here and every answer lands as it would on a fresh URL.
const fake = await startFakeSlack({ responseUrlMaxUses: Number.POSITIVE_INFINITY });
for (const id of USERS) fake.addUser({ id, name: id.slice(2).toLowerCase() });
// No member lists: the bot may post anywhere, as if invited.
for (const [id, name] of CHANNELS) fake.addChannel({ id, name });
const responseUrls = Array.from({ length: 16 }, (_, i) =>
  fake.responseUrl({ channelId: 'C0GENERAL', userId: USERS[i % USERS.length] as string }),
);

process.on('message', (message: { id: number; type: string }) => {
  if (message.type === 'stats') {
    const byMethod: Record<string, number> = {};
    for (const call of fake.calls) byMethod[call.method] = (byMethod[call.method] ?? 0) + 1;
    const files = [...fake.files().values()];
    process.send?.({
      id: message.id,
      result: {
        calls: fake.calls.length,
        byMethod,
        failed: fake.calls
          .filter((c) => c.response?.ok === false)
          .map((c) => `${c.method} ${c.response?.error}`),
        filesCompleted: files.filter((f) => f.completed).length,
        responses: fake.responses.length,
      },
    });
  }
});
process.on('disconnect', () => {
  void fake.stop().then(() => process.exit(0));
});

process.send({
  type: 'ready',
  apiUrl: fake.apiUrl,
  botToken: fake.botToken,
  signingSecret: fake.signingSecret,
  responseUrls,
});

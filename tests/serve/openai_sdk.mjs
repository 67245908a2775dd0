// openai_sdk.mjs — `olmo serve` driven by the official `openai` npm client v6 (spec §12, "Node SDK"). Prints
// PASS/FAIL lines. Env: SDK_DIR (where node_modules/openai is), SERVE_URL, SERVE_KEY. The server runs with one slot
// and a slowed decode loop (OLMO_SERVE_TEST_STEP_MS) so that an abort lands mid-generation.
import { pathToFileURL } from 'node:url';

const { default: OpenAI } = await import(pathToFileURL(`${process.env.SDK_DIR}/node_modules/openai/index.mjs`).href);
const baseURL = `${process.env.SERVE_URL}/v1`;
const client = new OpenAI({ baseURL, apiKey: process.env.SERVE_KEY, maxRetries: 0 });
const msgs = [{ role: 'user', content: 'Hello there' }];
let failed = 0;
async function check(name, fn) {
  try {
    const why = await fn();
    if (why === true) console.log(`PASS ${name}`);
    else { failed++; console.log(`FAIL ${name}: ${why}`); }
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: threw ${e?.constructor?.name} ${e?.message}`);
  }
}

await check('serve_sdk_models', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  return ids.length === 1 && ids[0] === 'olmo2_gen' ? true : JSON.stringify(ids);
});

let plain = null;
await check('serve_sdk_chat', async () => {
  const r = await client.chat.completions.create({ model: 'x', messages: msgs, max_tokens: 8, temperature: 0 });
  plain = r;
  const c = r.choices[0];
  return r.object === 'chat.completion' && c.message.role === 'assistant' && typeof c.message.content === 'string' &&
    r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens ? true : JSON.stringify(r);
});

await check('serve_sdk_chat_stream', async () => {
  const s = await client.chat.completions.create({ model: 'x', messages: msgs, max_tokens: 8, temperature: 0,
                                                    stream: true, stream_options: { include_usage: true } });
  let text = '', usage = null, finishes = 0;
  for await (const ch of s) {
    if (ch.usage) usage = ch.usage;
    for (const c of ch.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finishes++;
    }
  }
  return text === plain.choices[0].message.content && finishes === 1 && usage &&
    usage.completion_tokens === plain.usage.completion_tokens ? true : `'${text}' vs '${plain.choices[0].message.content}', usage ${JSON.stringify(usage)}`;
});

await check('serve_sdk_completion', async () => {
  const r = await client.completions.create({ model: 'x', prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  return r.object === 'text_completion' && typeof r.choices[0].text === 'string' && r.usage.completion_tokens <= 5
    ? true : JSON.stringify(r);
});

await check('serve_sdk_bad_request', async () => {
  try {
    await client.chat.completions.create({ model: 'x', messages: msgs, temperature: 5 });
    return 'no error';
  } catch (e) {
    return e instanceof OpenAI.BadRequestError && e.status === 400 && e.type === 'invalid_request_error' &&
      e.code === 'invalid_value' && e.param === 'temperature' ? true : `${e.constructor.name} ${e.status} ${e.type} ${e.code} ${e.param}`;
  }
});

await check('serve_sdk_auth', async () => {
  const bad = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
  try {
    await bad.models.list();
    return 'no error';
  } catch (e) {
    return e instanceof OpenAI.AuthenticationError && e.status === 401 ? true : `${e.constructor.name} ${e.status}`;
  }
});

await check('serve_sdk_abort', async () => {
  const ac = new AbortController();
  const s = await client.chat.completions.create({ model: 'x', messages: msgs, max_tokens: 200, temperature: 0, stream: true },
                                                  { signal: ac.signal });
  try {
    for await (const ch of s) { if (ch.choices[0]?.delta?.content) { ac.abort(); } }
  } catch (e) { /* the abort surfaces as an error: expected */ }
  // with 200 tokens at >= 20 ms each the slot would stay busy 4 s; freed, a short request finishes at once
  const t0 = Date.now();
  await client.chat.completions.create({ model: 'x', messages: msgs, max_tokens: 2, temperature: 0 });
  const ms = Date.now() - t0;
  return ms < 2500 ? true : `next request waited ${ms} ms`;
});
process.exit(failed ? 1 : 0);

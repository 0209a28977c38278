// The official Node clients against a running Pilotage: openai's responses.create and @anthropic-ai/sdk's
// messages.create, each plain and streamed. Exits non-zero on any failure; prints one JSON line with the
// interaction ids it saw, so the driving test can check the evidence recorded for each.
// Environment: PILOTAGE_URL (the server's base URL), PILOTAGE_KEY, PILOTAGE_MODEL (the system's name),
// EXPECTED_TEXT (what the fake model answers).
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const { PILOTAGE_URL: url, PILOTAGE_KEY: apiKey, PILOTAGE_MODEL: model, EXPECTED_TEXT: expected } = process.env;
assert.ok(url && apiKey && model && expected, 'set PILOTAGE_URL, PILOTAGE_KEY, PILOTAGE_MODEL and EXPECTED_TEXT');
const prompt = 'Can I get a refund?';
const ids = {};

const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });

const plain = await openai.responses.create({ model, input: prompt, instructions: 'Be brief.', max_output_tokens: 200 });
assert.equal(plain.output_text, expected);
assert.equal(plain.status, 'completed');
ids.responses = plain.id.replace(/^resp_/, '');

let streamedText = '';
let completed;
for await (const event of await openai.responses.create({ model, input: prompt, stream: true })) {
  if (event.type === 'response.output_text.delta') streamedText += event.delta;
  if (event.type === 'response.completed') completed = event.response;
}
assert.equal(streamedText, expected);
assert.ok(completed, 'the stream ended with response.completed');
ids.responsesStream = completed.id.replace(/^resp_/, '');

const anthropic = new Anthropic({ baseURL: url, apiKey, maxRetries: 0, timeout: 60_000 });

// The interaction id is in a header: to an Anthropic upstream the message passes through with the upstream's own id.
const { data: message, response: plainResponse } = await anthropic.messages.create({ model, max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: prompt }] }).withResponse();
assert.equal(message.content.map(b => b.text).join(''), expected);
assert.equal(message.stop_reason, 'end_turn');
ids.messages = plainResponse.headers.get('x-pilotage-interaction-id');

let messageText = '';
let started;
let stopped = false;
const { data: events, response: streamResponse } = await anthropic.messages.create({ model, max_tokens: 256, stream: true, messages: [{ role: 'user', content: prompt }] }).withResponse();
for await (const event of events) {
  if (event.type === 'message_start') started = event.message;
  if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') messageText += event.delta.text;
  if (event.type === 'message_stop') stopped = true;
}
assert.equal(messageText, expected);
assert.ok(started && stopped, 'the stream went from message_start to message_stop');
ids.messagesStream = streamResponse.headers.get('x-pilotage-interaction-id');

console.log(JSON.stringify(ids));

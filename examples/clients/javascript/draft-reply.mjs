// Drafts a reply through Pilotage with the official OpenAI JavaScript SDK.
//   npm install && PILOTAGE_KEY=plt_... node draft-reply.mjs "Where is my order 4711?"
// Only the base URL and the key differ from calling OpenAI directly; the model is the AI system's
// name (metadata.name in its spec). PILOTAGE_BASE_URL defaults to what 'pilotage serve' listens on.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.PILOTAGE_BASE_URL ?? "http://127.0.0.1:5080/v1",
  apiKey: process.env.PILOTAGE_KEY,
});
const ticket = process.argv.slice(2).join(" ") || "Where is my order 4711?";

const completion = await client.chat.completions.create({
  model: "support-reply-drafts",
  messages: [{ role: "user", content: ticket }],
});
console.log(completion.choices[0].message.content);

// Streaming works the same way.
const stream = await client.chat.completions.create({
  model: "support-reply-drafts",
  messages: [{ role: "user", content: ticket }],
  stream: true,
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
process.stdout.write("\n");

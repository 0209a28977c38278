"""Drafts a reply through Pilotage with the official OpenAI Python SDK.

    pip install openai
    PILOTAGE_KEY=plt_... python draft_reply.py "Where is my order 4711?"

Only the base URL and the key differ from calling OpenAI directly; the model is the AI system's
name (metadata.name in its spec). PILOTAGE_BASE_URL defaults to what 'pilotage serve' listens on.
"""
import os
import sys

from openai import OpenAI

client = OpenAI(
    base_url=os.environ.get("PILOTAGE_BASE_URL", "http://127.0.0.1:5080/v1"),
    api_key=os.environ["PILOTAGE_KEY"],
)
ticket = " ".join(sys.argv[1:]) or "Where is my order 4711?"

completion = client.chat.completions.create(
    model="support-reply-drafts",
    messages=[{"role": "user", "content": ticket}],
)
print(completion.choices[0].message.content)

# Streaming works the same way.
for chunk in client.chat.completions.create(
    model="support-reply-drafts",
    messages=[{"role": "user", "content": ticket}],
    stream=True,
):
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()

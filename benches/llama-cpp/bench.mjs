// Tokens per second and time to first token of a GGUF chat model in llama.cpp (node-llama-cpp's
// prebuilt CPU build), with the prompt, sampling and budget of genflow's benches/examples/local_models.rs, so
// that benches/local-models.sh can put the two side by side.
//
//   node bench.mjs <model.gguf>      (RUNS, default 5; TOKENS, default 128; THREADS, default 1)
import { getLlama, LlamaChatSession } from "node-llama-cpp";

const modelPath = process.argv[2];
if (!modelPath) {
  console.error("usage: node bench.mjs <model.gguf>");
  process.exit(2);
}
const runs = Number(process.env.RUNS ?? 5);
const budget = Number(process.env.TOKENS ?? 128);
const threads = Number(process.env.THREADS ?? 1);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// `build: "never"`: use the prebuilt binary from npm; never download or compile llama.cpp.
const llama = await getLlama({ gpu: false, build: "never" });
const load = performance.now();
const model = await llama.loadModel({ modelPath });
const loadMs = performance.now() - load;

// The review schema of benches/examples/local_models.rs, as a llama.cpp grammar for the constrained runs.
const schema = {
  type: "object",
  properties: {
    title: { type: "string", maxLength: 200 },
    tags: { type: "array", items: { type: "string", maxLength: 40 }, maxItems: 8 },
    rating: { type: "integer", minimum: 1, maximum: 5 },
    summary: { type: "string", maxLength: 600 },
  },
  required: ["title", "tags", "rating", "summary"],
  additionalProperties: false,
};

async function measure(grammar) {
  const firstTokens = [];
  const rates = [];
  const counts = [];
  for (let seed = 0; seed < runs; seed++) {
    const context = await model.createContext({ threads, contextSize: 2048 });
    // The system turn genflow's benchmark sends (the schema, in both modes), so both
    // runtimes prefill the same conversation.
    const session = new LlamaChatSession({
      contextSequence: context.getSequence(),
      systemPrompt: `Answer with one JSON value, no other text, valid for this JSON Schema: ${JSON.stringify(schema)}`,
    });
    const start = performance.now();
    let first = null;
    let tokens = 0;
    await session.prompt("Review a novel about the sea, in detail.", {
      maxTokens: budget,
      temperature: 0.7,
      seed,
      grammar,
      onToken(chunk) {
        first ??= performance.now();
        tokens += chunk.length;
      },
    });
    const end = performance.now();
    firstTokens.push(first - start);
    rates.push((tokens - 1) / ((end - first) / 1000));
    counts.push(tokens);
    await context.dispose();
  }
  return (
    `median of ${runs}: time to first token ${median(firstTokens).toFixed(0)} ms, ` +
    `${median(rates).toFixed(1)} tokens/s after it, ${median(counts)} tokens per reply`
  );
}

console.log(`llama.cpp (node-llama-cpp, ${threads} thread(s)): load ${loadMs.toFixed(0)} ms`);
console.log(`unconstrained: ${await measure(undefined)}`);
const grammar = await llama.createGrammarForJsonSchema(schema);
console.log(`constrained (JSON Schema grammar): ${await measure(grammar)}`);

// Small choice controls shared by several panels.

/** `<option>`s for a list of models, by id, showing their names. */
export function ModelOptions({ models }: { models: readonly { id: string; name: string }[] }) {
  return (
    <>
      {models.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
        </option>
      ))}
    </>
  );
}

/** `<option>`s for where a model runs: measured automatically, or a backend the user picks. */
export function BackendOptions() {
  return (
    <>
      <option value="auto">the fastest here (measured)</option>
      <option value="webgpu">WebGPU</option>
      <option value="wasm">WASM (CPU)</option>
    </>
  );
}

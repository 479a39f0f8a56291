export function App() {
  return (
    <main>
      <h1>Earshot</h1>
      <p>Fine-tune a speech recognizer on your own voice, privately, on your own GPU.</p>
    </main>
  );
}

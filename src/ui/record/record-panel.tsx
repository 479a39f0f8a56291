import { useEffect, useRef, useState } from 'react';
import { useApp } from '../../store/app-store';
import { saveTake, startLiveTake, type LiveTake } from '../../store/record-actions';
import { setAutoTrain } from '../../store/auto-train-actions';
import { LevelMeter, type LevelMeterHandle } from './level-meter';
import { ProgressSection } from './progress-section';
import { BUILT_IN_PROMPTS, parsePromptFile } from './prompts';
import { Recorder } from './recorder';
import { TakeCard } from './take-card';
import { takeFiles } from '../file-input';

/** Record takes (toggle, push-to-talk, auto-stop on silence), correct what the model heard, accept. */
export function RecordPanel() {
  const takes = useApp((s) => s.takes);
  const message = useApp((s) => s.recordMessage);
  const auto = useApp((s) => s.autoTrain);
  const autoMessage = useApp((s) => s.autoTrainMessage);
  const ready = useApp((s) => s.modelStatus === 'ready');
  const [recording, setRecording] = useState(false);
  const [autoStop, setAutoStop] = useState(true);
  const [prompted, setPrompted] = useState(false);
  const [prompts, setPrompts] = useState<readonly string[]>(BUILT_IN_PROMPTS);
  const [index, setIndex] = useState(0);
  const rec = useRef<Recorder | null>(null);
  const live = useRef<LiveTake | null>(null);
  const meter = useRef<LevelMeterHandle>(null);
  const prompt = prompted ? prompts[index % prompts.length] : undefined;

  const start = async () => {
    if (rec.current) return;
    // the take's audio goes to the ASR worker as it is recorded (features computed meanwhile)
    const take = startLiveTake();
    try {
      rec.current = await Recorder.start({ autoStop, onLevel: (r) => meter.current?.set(r), onChunk: (x) => take.push(x), onAutoStop: () => void stop() });
      live.current = take;
      setRecording(true);
      useApp.setState({ recordMessage: undefined });
    } catch (e) {
      take.drop();
      useApp.setState({ recordMessage: `The microphone could not be opened: ${(e as Error).message}` });
    }
  };
  const stop = async () => {
    const r = rec.current;
    const take = live.current;
    if (!r || !take) return;
    rec.current = null;
    live.current = null;
    setRecording(false);
    meter.current?.set(0);
    const ending = r.stop(); // no chunk arrives after this call
    if (r.seconds < 0.1) {
      take.drop();
      await ending;
      return;
    }
    // transcription starts at once, while the take is stored
    const transcript = take.finish();
    await saveTake(await ending, prompt, transcript);
    if (prompted) setIndex((i) => i + 1);
  };

  // Push-to-talk on the space bar (outside text fields).
  useEffect(() => {
    const typing = (e: KeyboardEvent) => e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    const down = (e: KeyboardEvent) => e.code === 'Space' && !e.repeat && !typing(e) && (e.preventDefault(), void start());
    const up = (e: KeyboardEvent) => e.code === 'Space' && !typing(e) && void stop();
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  });

  const pending = takes.filter((t) => t.status === 'pending');
  const accepted = takes.filter((t) => t.status === 'accepted');
  return (
    <section aria-labelledby="record-heading">
      <h2 id="record-heading">Record & correct</h2>
      <div className="controls">
        <label>
          <input type="checkbox" data-testid="prompted-mode" checked={prompted} onChange={(e) => setPrompted(e.target.checked)} /> Prompted mode
        </label>{' '}
        <label>
          <input type="checkbox" checked={autoStop} onChange={(e) => setAutoStop(e.target.checked)} /> Stop on silence
        </label>
        {prompted && (
          <label>
            {' '}
            Sentences from a text file{' '}
            <input type="file" accept=".txt" onChange={async (e) => {
              const [f] = takeFiles(e.target);
              const list = f ? parsePromptFile(await f.text()) : [];
              if (list.length) {
                setPrompts(list);
                setIndex(0);
              }
            }} />
          </label>
        )}
      </div>
      {prompt && (
        <p className="prompt" data-testid="prompt">
          Read: “{prompt}” <button type="button" onClick={() => setIndex((i) => i + 1)}>Skip</button>
        </p>
      )}
      <div className="controls">
        <button type="button" data-testid="record-toggle" className={recording ? 'recording' : ''} disabled={!ready && !recording} onClick={() => void (recording ? stop() : start())}>
          {recording ? '■ Stop' : '● Record'}
        </button>{' '}
        <button type="button" data-testid="push-to-talk" disabled={!ready} onPointerDown={() => void start()} onPointerUp={() => void stop()} onPointerLeave={() => recording && void stop()}>
          Hold to talk (or hold Space)
        </button>
        <LevelMeter ref={meter} />
      </div>
      <fieldset className="controls" data-testid="auto-train">
        <legend>Keep fine-tuning as takes arrive</legend>
        <label>
          <input type="checkbox" data-testid="auto-train-enabled" checked={auto.enabled} onChange={(e) => setAutoTrain({ enabled: e.target.checked })} /> On
        </label>{' '}
        <label>
          after every <input type="number" data-testid="auto-train-every" min={1} max={100} value={auto.every} onChange={(e) => setAutoTrain({ every: Math.max(1, Number(e.target.value) || 1) })} /> new takes,
        </label>{' '}
        <label>
          <input type="number" data-testid="auto-train-steps" min={1} max={5000} value={auto.steps} onChange={(e) => setAutoTrain({ steps: Math.max(1, Number(e.target.value) || 1) })} /> steps
        </label>
        <p className="hint">
          A short round with the Train panel&apos;s adapter and learning rate, on &ldquo;My recordings&rdquo;, starting from the current model. If the held-out takes come out no worse, the
          result becomes the current model. How each round does on your held-out takes shows below; the round's training charts, in the Train panel.
        </p>
        {autoMessage && <p data-testid="auto-train-message">{autoMessage}</p>}
      </fieldset>
      <ProgressSection />
      {!ready && <p>Load a model first (Model panel); takes are transcribed with it.</p>}
      {message && <p role="alert">{message}</p>}
      <h3>To correct ({pending.length})</h3>
      <ul className="takes" data-testid="pending-takes">
        {pending.map((t) => (
          <TakeCard key={t.id} take={t} />
        ))}
      </ul>
      <h3>Accepted ({accepted.length})</h3>
      <ul className="takes" data-testid="accepted-takes">
        {accepted.map((t) => (
          <TakeCard key={t.id} take={t} />
        ))}
      </ul>
    </section>
  );
}

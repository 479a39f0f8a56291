import type { LoraTarget } from '../../asr/model';
import { selectSettings, useApp } from '../../store/app-store';
import { setDatasetIds, setSettings } from '../../store/train-actions';
import type { AdapterChoice } from '../../train/adapters';
import { selectDatasets, useDataStore } from '../data/data-store';
import { BackendOptions } from '../choices';
import type { ProjectionKind } from '../../engine/lora-inject';
import type { ProjectionKindCount } from '../../foreign/foreign-model';
import { defaultProjections } from '../../workers/train-db';
import { projectionLabel } from '../model/foreign-card';

const TARGETS: LoraTarget[] = ['q', 'k', 'v', 'o', 'ff1', 'ff2'];

function num(label: string, value: number, set: (v: number) => void, o: { step?: number; min?: number; testId?: string } = {}) {
  return (
    <label>
      {label}{' '}
      <input type="number" data-testid={o.testId} value={value} step={o.step ?? 1} min={o.min ?? 0} onChange={(e) => Number.isFinite(e.target.valueAsNumber) && set(e.target.valueAsNumber)} />
    </label>
  );
}

function AdapterFields({ a, set }: { a: AdapterChoice; set: (a: AdapterChoice) => void }) {
  if (a.kind === 'lora')
    return (
      <>
        {num('rank', a.rank, (rank) => set({ ...a, rank: Math.max(1, rank) }), { min: 1, testId: 'lora-rank' })}
        {num('alpha', a.alpha, (alpha) => set({ ...a, alpha }))}
        <span>
          on{' '}
          {TARGETS.map((t) => (
            <label key={t}>
              <input type="checkbox" checked={a.targets.includes(t)} onChange={(e) => set({ ...a, targets: e.target.checked ? [...a.targets, t] : a.targets.filter((x) => x !== t) })} />
              {t}
            </label>
          ))}
        </span>
      </>
    );
  if (a.kind === 'bottleneck') return num('size', a.dim, (dim) => set({ ...a, dim: Math.max(1, dim) }), { min: 1 });
  return num('layers', a.layers, (layers) => set({ ...a, layers: Math.max(1, layers) }), { min: 1 });
}

/** LoRA on a model from elsewhere: rank, alpha, and the projection kinds its import found. */
function ForeignLoraFields({ a, found, picked, set, setPicked }: { a: AdapterChoice; found: ProjectionKindCount[]; picked: ProjectionKind[]; set: (a: AdapterChoice) => void; setPicked: (p: ProjectionKind[]) => void }) {
  const lora = a.kind === 'lora' ? a : (DEFAULTS.lora as Extract<AdapterChoice, { kind: 'lora' }>);
  return (
    <>
      LoRA {num('rank', lora.rank, (rank) => set({ ...lora, rank: Math.max(1, rank) }), { min: 1, testId: 'lora-rank' })}
      {num('alpha', lora.alpha, (alpha) => set({ ...lora, alpha }))}
      <span data-testid="lora-projections">
        on{' '}
        {found.map((p) => (
          <label key={p.kind} title={`${p.count} projection${p.count === 1 ? '' : 's'}, e.g. ${p.example}`}>
            <input
              type="checkbox"
              data-testid="lora-projection"
              data-kind={p.kind}
              checked={picked.includes(p.kind)}
              onChange={(e) => setPicked(e.target.checked ? [...picked, p.kind] : picked.filter((k) => k !== p.kind))}
            />
            {projectionLabel(p.kind)} ({p.count})
          </label>
        ))}
      </span>
    </>
  );
}

const DEFAULTS: Record<AdapterChoice['kind'], AdapterChoice> = {
  lora: { kind: 'lora', rank: 8, alpha: 16, targets: ['q', 'v'] },
  bottleneck: { kind: 'bottleneck', dim: 32 },
  'last-layers': { kind: 'last-layers', layers: 2 },
};

export function TrainSettingsForm({ disabled }: { disabled: boolean }) {
  const s = useApp(selectSettings);
  const datasetIds = useApp((st) => st.datasetIds);
  const datasets = useDataStore(selectDatasets);
  const foreign = useApp((st) => st.model?.foreign);
  return (
    <fieldset className="settings" disabled={disabled}>
      <legend>Settings</legend>
      <div data-testid="train-datasets">
        Datasets:{' '}
        {datasets.length === 0 && <span>none yet — import one in the Data panel or record takes.</span>}
        {datasets.map((d) => (
          <label key={d.id}>
            <input type="checkbox" data-testid="train-dataset" data-name={d.name} checked={datasetIds.includes(d.id)} onChange={(e) => setDatasetIds(e.target.checked ? [...datasetIds, d.id] : datasetIds.filter((x) => x !== d.id))} />
            {d.name} ({d.utterances})
          </label>
        ))}
      </div>
      {foreign ? (
        <div>
          Adapter:{' '}
          <ForeignLoraFields
            a={s.adapter}
            found={foreign.projections}
            picked={(s.projections ?? defaultProjections(foreign.projections)).filter((k) => foreign.projections.some((p) => p.kind === k))}
            set={(adapter) => setSettings({ adapter })}
            setPicked={(projections) => setSettings({ projections })}
          />
        </div>
      ) : (
        <div>
          <label>
            Adapter{' '}
            <select data-testid="adapter-kind" value={s.adapter.kind} onChange={(e) => setSettings({ adapter: DEFAULTS[e.target.value as AdapterChoice['kind']] })}>
              <option value="lora">LoRA</option>
              <option value="bottleneck">bottleneck adapters</option>
              <option value="last-layers">last layers</option>
            </select>
          </label>{' '}
          <AdapterFields a={s.adapter} set={(adapter) => setSettings({ adapter })} />
        </div>
      )}
      <div>
        {num('Peak learning rate', s.peakLr, (peakLr) => setSettings({ peakLr }), { step: 1e-4, testId: 'peak-lr' })}
        {num('Warmup steps', s.warmupSteps, (warmupSteps) => setSettings({ warmupSteps }), { testId: 'warmup' })} (then cosine decay)
      </div>
      <div>
        {num('Length', s.length.value, (value) => setSettings({ length: { ...s.length, value } }), { min: 1, testId: 'train-length' })}
        <select data-testid="train-length-unit" aria-label="Length unit" value={s.length.unit} onChange={(e) => setSettings({ length: { ...s.length, unit: e.target.value as 'steps' | 'epochs' } })}>
          <option value="steps">steps</option>
          <option value="epochs">epochs</option>
        </select>{' '}
        {num('Batch seconds', s.batchSeconds, (batchSeconds) => setSettings({ batchSeconds }), { min: 1, testId: 'batch-seconds' })}
        {num('Evaluate every', s.evalEvery, (evalEvery) => setSettings({ evalEvery }), { testId: 'eval-every' })}
        {num('Checkpoint every', s.checkpointEvery, (checkpointEvery) => setSettings({ checkpointEvery }), { testId: 'checkpoint-every' })}
      </div>
      <div>
        Augmentation:{' '}
        {(['specAugment', 'speed', 'noise'] as const).filter((k) => !(foreign && k === 'specAugment')).map((k) => (
          <label key={k}>
            <input type="checkbox" data-testid={`augment-${k}`} checked={s.augment[k]} onChange={(e) => setSettings({ augment: { ...s.augment, [k]: e.target.checked } })} />
            {k === 'specAugment' ? 'SpecAugment' : k === 'speed' ? 'speed 0.9/1.1' : 'noise'}
          </label>
        ))}{' '}
{!foreign && (
          <>
        <label title="The fine-tuned model's word LM also learns the words and phrases of the training transcripts; it keeps them in personal.txt, so they travel with an exported model (not with the adapter-only file).">
          <input type="checkbox" data-testid="personal-lm" checked={s.personalLm !== false} onChange={(e) => setSettings({ personalLm: e.target.checked })} />
          learn my words (LM)
        </label>{' '}
          </>
        )}
        <label>
          Backend{' '}
          <select data-testid="train-backend-choice" value={s.backend} onChange={(e) => setSettings({ backend: e.target.value as typeof s.backend })}>
            <BackendOptions />
          </select>
        </label>
      </div>
    </fieldset>
  );
}

// Real recordings: the NeMo manifests of the shared speech corpus (../shared/speech, FLAC from
// LJSpeech, LibriSpeech, CMU Arctic and others) go through the same import as a user's folder.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importDataset } from './import';
import { folderFiles } from './node-files';

const SPEECH = fileURLToPath(new URL('../../../shared/speech/', import.meta.url));
const CORPORA = ['ljspeech_coqui', 'misc_samples'];
const present = CORPORA.every((c) => existsSync(`${SPEECH}${c}/manifest.jsonl`));
if (!present) console.warn(`shared-corpus.test: skipped, the shared speech corpus is not at ${SPEECH} (see README: tests that read real speech expect ../shared/speech/)`);

describe.skipIf(!present)('import of the shared speech corpus', () => {
  for (const corpus of CORPORA) {
    it(corpus, async () => {
      const files = await folderFiles(`${SPEECH}${corpus}`);
      const { report, utterances } = await importDataset(files, { limits: { maxDurationSec: 60 } });
      const detail = report.issues.map((i) => `${i.kind} ${i.file} ${i.message}`).join('\n');
      expect(report.format).toBe('nemo');
      // Every row imports: the audio decodes, the durations the manifest states fit the audio,
      // and the transcripts are already normalized for the vocabulary.
      expect(report.rejected, detail).toBe(0);
      expect(report.counts.normalized ?? 0, detail).toBe(0);
      expect(utterances.length).toBeGreaterThan(10);
      for (const u of utterances) {
        expect(u.audioFormat).toBe('flac');
        expect(u.speaker).toBeTruthy();
      }
    });
  }
});

// Small datasets in every supported layout, built in memory, each with planted faults. Used by
// the unit tests, the browser test and the benchmark; nothing here is committed as audio.
import { encodeWav16 } from '../../audio';
import { memoryFile, type VirtualFile } from '../vfile';
import type { FormatId } from '../formats/types';
import type { IssueKind } from '../report';

const utf8 = new TextEncoder();
export const text = (s: string) => utf8.encode(s);

/** A WAV of a sine tone; `seed` changes the pitch so every clip hashes differently. */
export function toneWav(seconds: number, seed = 0, sampleRate = 16000): Uint8Array {
  const n = Math.round(seconds * sampleRate);
  const x = new Float32Array(n);
  const f = 180 + 37 * seed;
  for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * f * i) / sampleRate);
  return encodeWav16([x], sampleRate);
}

/** The first half of a WAV: its header promises more data than the file holds. */
export function truncatedWav(seed = 99): Uint8Array {
  const w = toneWav(1, seed);
  return w.slice(0, Math.floor(w.length / 2));
}

export const NOT_AUDIO = text('%PDF-1.4 this is a document, not a recording\n');

export interface SampleDataset {
  format: FormatId;
  files: VirtualFile[];
  /** What a correct import reports. */
  expect: { accepted: number; counts: Partial<Record<IssueKind, number>> };
}

type Files = Record<string, Uint8Array>;
const toVirtual = (root: string, files: Files) => Object.entries(files).map(([p, b]) => memoryFile(`${root}/${p}`, b));

/*
 * Every layout gets the same cast: two good clips, one with punctuation and capitals (imported,
 * reported as normalized), a truncated WAV, a text file posing as audio, a transcript with
 * characters no normalization can map (日本), a transcript whose audio is missing, and audio with no
 * transcript. Manifest layouts add a malformed row.
 */
const CAST = {
  good1: 'hello world',
  good2: 'Second clip, with Punctuation!',
  truncated: 'this clip was cut short',
  notAudio: 'this is not audio',
  oov: 'tokyo is 日本',
  missing: 'the audio for this is missing',
};

export function nemoSample(): SampleDataset {
  const rows = [
    JSON.stringify({ audio_filepath: 'audio/good1.wav', text: CAST.good1, duration: 1.0, speaker: 'ann' }),
    JSON.stringify({ audio_filepath: 'audio/good2.wav', text: CAST.good2, speaker: 'bob' }),
    '{"audio_filepath": "audio/broken.wav", "text": ',
    JSON.stringify({ audio_filepath: 'audio/notext.wav' }),
    JSON.stringify({ audio_filepath: 'audio/truncated.wav', text: CAST.truncated }),
    JSON.stringify({ audio_filepath: 'audio/not-audio.wav', text: CAST.notAudio }),
    JSON.stringify({ audio_filepath: 'audio/oov.wav', text: CAST.oov }),
    JSON.stringify({ audio_filepath: 'audio/missing.wav', text: CAST.missing }),
    JSON.stringify({ audio_filepath: 'audio/long.wav', text: 'a segment of a longer file', offset: 0.5, duration: 1.0 }),
    JSON.stringify({ audio_filepath: 'audio/dup.wav', text: 'same audio as good one' }),
  ];
  const good1 = toneWav(1, 1);
  return {
    format: 'nemo',
    files: toVirtual('nemo', {
      'train_manifest.json': text(rows.join('\n') + '\n'),
      'audio/good1.wav': good1,
      'audio/good2.wav': toneWav(1.2, 2),
      'audio/truncated.wav': truncatedWav(),
      'audio/not-audio.wav': NOT_AUDIO,
      'audio/oov.wav': toneWav(1, 4),
      'audio/long.wav': toneWav(3, 5),
      'audio/dup.wav': good1,
      'audio/orphan.wav': toneWav(1, 6),
    }),
    expect: {
      accepted: 3,
      counts: { 'bad-manifest-row': 2, 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 1, duplicate: 1, 'missing-transcript': 1, normalized: 1 },
    },
  };
}

export function hfSample(): SampleDataset {
  const csv = [
    'file_name,transcription,speaker_id',
    `good1.wav,${CAST.good1},s1`,
    `good2.flac,"${CAST.good2}",s2`,
    'broken.wav,only two columns',
    `truncated.wav,${CAST.truncated},s1`,
    `not-audio.wav,${CAST.notAudio},s1`,
    `oov.wav,${CAST.oov},s2`,
    `missing.wav,${CAST.missing},s2`,
  ].join('\n');
  return {
    format: 'hf-audiofolder',
    files: toVirtual('hf', {
      'metadata.csv': text(csv),
      'good1.wav': toneWav(1, 1),
      // A .flac name on WAV bytes: content decides, not the name.
      'good2.flac': toneWav(1, 2),
      'truncated.wav': truncatedWav(),
      'not-audio.wav': NOT_AUDIO,
      'oov.wav': toneWav(1, 4),
      'orphan.wav': toneWav(1, 6),
      'README.md': text('# my dataset\n'),
    }),
    expect: {
      accepted: 2,
      counts: { 'bad-manifest-row': 1, 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 1, 'missing-transcript': 1, normalized: 1, 'ignored-file': 1 },
    },
  };
}

export function ljspeechSample(): SampleDataset {
  const csv = [
    `LJ001-0001|${CAST.good1}|${CAST.good1}`,
    `LJ001-0002|Second clip, number 2|Second clip, number two`,
    'LJ001-0003',
    `LJ001-0004|${CAST.truncated}|${CAST.truncated}`,
    `LJ001-0005|${CAST.notAudio}|${CAST.notAudio}`,
    `LJ001-0006|${CAST.oov}|${CAST.oov}`,
    `LJ001-0007|${CAST.missing}|${CAST.missing}`,
    `LJ001-0008||`,
  ].join('\n');
  return {
    format: 'ljspeech',
    files: toVirtual('LJSpeech-1.1', {
      'metadata.csv': text(csv),
      'wavs/LJ001-0001.wav': toneWav(1, 1),
      'wavs/LJ001-0002.wav': toneWav(1, 2),
      'wavs/LJ001-0004.wav': truncatedWav(),
      'wavs/LJ001-0005.wav': NOT_AUDIO,
      'wavs/LJ001-0006.wav': toneWav(1, 4),
      'wavs/LJ001-0008.wav': toneWav(1, 8),
      'wavs/LJ001-0009.wav': toneWav(1, 9),
    }),
    expect: {
      accepted: 2,
      counts: { 'bad-manifest-row': 1, 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 1, 'empty-text': 1, 'missing-transcript': 1, normalized: 1 },
    },
  };
}

export function commonVoiceSample(): SampleDataset {
  const head = 'client_id\tpath\tsentence\tup_votes\tdown_votes';
  const train = [head, `spk1\tgood1.mp3\t${CAST.good1}\t2\t0`, `spk2\tgood2.mp3\t${CAST.good2}\t2\t0`, `spk1\ttruncated.mp3\t${CAST.truncated}\t2\t0`, `spk1`].join('\n');
  const dev = [head, `spk3\tnot-audio.mp3\t${CAST.notAudio}\t2\t0`, `spk3\toov.mp3\t${CAST.oov}\t2\t0`, `spk3\tmissing.mp3\t${CAST.missing}\t2\t0`].join('\n');
  return {
    format: 'common-voice',
    files: toVirtual('cv-corpus/en', {
      'train.tsv': text(train),
      'dev.tsv': text(dev),
      'validated.tsv': text(train),
      // Common Voice ships MP3; WAV bytes under .mp3 names exercise content sniffing.
      'clips/good1.mp3': toneWav(1, 1),
      'clips/good2.mp3': toneWav(1, 2),
      'clips/truncated.mp3': truncatedWav(),
      'clips/not-audio.mp3': NOT_AUDIO,
      'clips/oov.mp3': toneWav(1, 4),
      'clips/orphan.mp3': toneWav(1, 6),
    }),
    expect: {
      accepted: 2,
      counts: { 'bad-manifest-row': 1, 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 1, 'missing-transcript': 1, normalized: 1, 'ignored-file': 1 },
    },
  };
}

export function librispeechSample(flac?: Uint8Array): SampleDataset {
  const trans = [`19-198-0001 ${CAST.good1.toUpperCase()}`, `19-198-0002 SECOND CLIP`, `19-198-0003 ${CAST.truncated.toUpperCase()}`, `19-198-0004 ${CAST.notAudio.toUpperCase()}`, `19-198-0005 TOKYO 日本`, `19-198-0006 ${CAST.missing.toUpperCase()}`, '19-198-0007'].join('\n');
  return {
    format: 'librispeech',
    files: toVirtual('LibriSpeech/dev-clean', {
      '19/198/19-198.trans.txt': text(trans),
      '19/198/19-198-0001.flac': flac ?? toneWav(1, 1),
      '19/198/19-198-0002.flac': toneWav(1, 2),
      '19/198/19-198-0003.flac': truncatedWav(),
      '19/198/19-198-0004.flac': NOT_AUDIO,
      '19/198/19-198-0005.flac': toneWav(1, 4),
      '19/198/19-198-0008.flac': toneWav(1, 8),
    }),
    expect: {
      accepted: 2,
      // capitals are folded without a warning: LibriSpeech writes every transcript in them
      counts: { 'bad-manifest-row': 1, 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 1, 'missing-transcript': 1 },
    },
  };
}

export function kaldiSample(): SampleDataset {
  const scp = ['u1 /home/someone/corpus/wav/u1.wav', 'u2 wav/u2.wav', 'u3 wav/u3.wav', 'u4 wav/u4.wav', 'u5 wav/u5.wav', 'u6 wav/u6.wav', 'u7 sox wav/u7.sph -t wav - |', 'u8 wav/u8.wav'].join('\n');
  const txt = [`u1 ${CAST.good1}`, `u2 ${CAST.good2}`, `u3 ${CAST.truncated}`, `u4 ${CAST.notAudio}`, `u5 ${CAST.oov}`, `u6 ${CAST.missing}`, 'u7 piped', 'u9 no audio entry'].join('\n');
  return {
    format: 'kaldi',
    files: toVirtual('data/train', {
      'wav.scp': text(scp),
      text: text(txt),
      utt2spk: text('u1 spkA\nu2 spkB\nu3 spkA\nu4 spkA\nu5 spkB\nu6 spkB\n'),
      'wav/u1.wav': toneWav(1, 1),
      'wav/u2.wav': toneWav(1, 2),
      'wav/u3.wav': truncatedWav(),
      'wav/u4.wav': NOT_AUDIO,
      'wav/u5.wav': toneWav(1, 4),
      'wav/u8.wav': toneWav(1, 8),
    }),
    expect: {
      accepted: 2,
      // u7 is a pipe and u8 has no text (bad rows, and u8.wav is audio without a transcript); u9 has
      // text but no wav.scp entry, u6 no file.
      counts: { 'bad-manifest-row': 2, 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 2, 'missing-transcript': 1, normalized: 1 },
    },
  };
}

export function pairsSample(): SampleDataset {
  return {
    format: 'pairs',
    files: toVirtual('my-voice', {
      'good1.wav': toneWav(1, 1),
      'good1.txt': text(CAST.good1),
      'good2.wav': toneWav(1, 2),
      'good2.lab': text(CAST.good2),
      'truncated.wav': truncatedWav(),
      'truncated.txt': text(CAST.truncated),
      'not-audio.wav': NOT_AUDIO,
      'not-audio.txt': text(CAST.notAudio),
      'oov.wav': toneWav(1, 4),
      'oov.txt': text(CAST.oov),
      'missing.lab': text(CAST.missing),
      'orphan.wav': toneWav(1, 6),
      'short.wav': toneWav(0.1, 7),
      'short.txt': text('too short'),
      'empty.wav': toneWav(1, 8),
      'empty.txt': text('   '),
    }),
    expect: {
      accepted: 2,
      counts: { 'truncated-audio': 1, 'undecodable-audio': 1, 'out-of-vocabulary': 1, 'missing-audio': 1, 'missing-transcript': 1, 'too-short': 1, 'empty-text': 1, normalized: 1 },
    },
  };
}

export const SAMPLES: Readonly<Record<FormatId, () => SampleDataset>> = {
  nemo: nemoSample,
  'hf-audiofolder': hfSample,
  ljspeech: ljspeechSample,
  'common-voice': commonVoiceSample,
  librispeech: librispeechSample,
  kaldi: kaldiSample,
  pairs: pairsSample,
};

/** `n` plain pairs (clip-0001.wav + .txt), `seconds` each: the benchmark's 1,000-file dataset. */
export function manyPairs(n: number, seconds = 1): Files {
  const files: Files = {};
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  for (let i = 0; i < n; i++) {
    const name = `clip-${String(i).padStart(4, '0')}`;
    files[`${name}.wav`] = toneWav(seconds, i);
    files[`${name}.txt`] = text(`${words[i % 8]} ${words[(i * 3) % 8]} number ${i}`);
  }
  return files;
}

#!/usr/bin/env bash
# Regenerates the tiny audio fixtures that src/audio's decoder tests read.
# The fixtures are committed, so tests and CI need none of these encoders; run this only to change them.
# Needs (Debian): sox, flac, lame, opus-tools (opusenc), ffmpeg; and for the MediaRecorder WebM, chromium
# plus the project's playwright-core (scripts/make-audio-fixtures.mjs).
# Every file carries a 440 Hz sine at amplitude 0.5 (multichannel files: 440 Hz left, 880 Hz right,
# 1320 Hz third) so a test can check the decoded content, not just that decoding "worked".
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/audio/fixtures
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


# WAV variants. sox writes WAVE_FORMAT_EXTENSIBLE by itself for >2 channels or >16 bits;
# `-t wavpcm` forces the plain header.
sox -D -n -b 8 -e unsigned-integer -t wavpcm -r 8000 -c 1 "$out/pcm8-8k-mono.wav" synth 0.25 sine 440 vol 0.5
sox -D -n -b 16 -e signed-integer -t wavpcm -r 16000 -c 1 "$out/pcm16-16k-mono.wav" synth 0.25 sine 440 vol 0.5
sox -D -n -b 16 -e signed-integer -t wavpcm -r 48000 -c 2 "$out/pcm16-48k-stereo.wav" synth 0.05 sine 440 sine 880 vol 0.5
sox -D -n -b 16 -e signed-integer -r 8000 -c 3 "$out/pcm16-8k-3ch-extensible.wav" synth 0.1 sine 440 sine 880 sine 1320 vol 0.5
sox -D -n -b 24 -e signed-integer -r 8000 -c 2 "$out/pcm24-8k-stereo-extensible.wav" synth 0.2 sine 440 sine 880 vol 0.5
sox -D -n -b 32 -e signed-integer -t wavpcm -r 16000 -c 1 "$out/pcm32-16k-mono.wav" synth 0.1 sine 440 vol 0.5
sox -D -n -b 32 -e floating-point -t wavpcm -r 16000 -c 1 "$out/float32-16k-mono.wav" synth 0.1 sine 440 vol 0.5

# Compressed formats, each from a 16-bit WAV source made by sox.
sox -D -n -b 16 -r 16000 -c 1 "$tmp/tone16k.wav" synth 0.5 sine 440 vol 0.5
# --no-padding: flac reserves 8 KiB of PADDING metadata by default, which would be most of the file.
flac --silent --force --no-padding -8 -o "$out/tone-16k-mono.flac" "$tmp/tone16k.wav"

# LAME writes its gapless Info/LAME tag (encoder delay, padding) only when the first frame is big
# enough to hold it, so ≥ 64 kbps here; and at low bitrates it silently lowers the sample rate,
# hence --resample to keep 44.1 kHz.
sox -D -n -b 16 -r 22050 -c 1 "$tmp/tone22k.wav" synth 0.5 sine 440 vol 0.5
lame --quiet -b 64 "$tmp/tone22k.wav" "$out/tone-22k-mono.mp3"

sox -D -n -b 16 -r 44100 -c 2 "$tmp/tone44k-st.wav" synth 0.3 sine 440 sine 880 vol 0.5
lame --quiet --resample 44.1 -b 128 "$tmp/tone44k-st.wav" "$out/tone-44k-stereo.mp3"

opusenc --quiet --serial 1 --bitrate 24 "$tmp/tone16k.wav" "$out/tone-16k-mono.opus"

# WebM/Opus as ffmpeg muxes it (sized elements, Cues). Strip metadata so reruns are byte-stable.
ffmpeg -hide_banner -loglevel error -y -i "$tmp/tone16k.wav" -c:a libopus -b:a 24k \
  -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$out/tone-ffmpeg.webm"

# WebM/Opus as Chromium's MediaRecorder writes it (unknown-size Segment and Clusters, SimpleBlocks):
# the format the app records. Needs /usr/bin/chromium.
if [ -x /usr/bin/chromium ]; then
  node scripts/make-audio-fixtures.mjs "$out/tone-mediarecorder.webm"
else
  echo "chromium not found: kept the committed $out/tone-mediarecorder.webm" >&2
fi

ls -l "$out"

import { useRef, useState } from 'react';

/** Plays stored audio bytes through an <audio> element (a same-origin blob URL). */
export function PlayButton({ load, offset, duration }: { load: () => Promise<Uint8Array>; offset?: number; duration?: number }) {
  const audio = useRef<HTMLAudioElement | null>(null);
  const [playing, setPlaying] = useState(false);
  const play = async () => {
    if (playing && audio.current) {
      audio.current.pause();
      return;
    }
    const bytes = await load();
    const url = URL.createObjectURL(new Blob([bytes as BlobPart]));
    const el = new Audio(url);
    audio.current = el;
    if (offset) el.currentTime = offset;
    const end = () => {
      setPlaying(false);
      URL.revokeObjectURL(url);
    };
    el.onpause = end;
    el.onended = end;
    if (offset !== undefined && duration !== undefined) el.ontimeupdate = () => el.currentTime >= offset + duration && el.pause();
    setPlaying(true);
    await el.play().catch(end);
  };
  return (
    <button type="button" data-testid="play" aria-label={playing ? 'Stop' : 'Play'} onClick={() => void play()}>
      {playing ? '■' : '▶'}
    </button>
  );
}

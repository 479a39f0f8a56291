import { forwardRef, useImperativeHandle, useRef } from 'react';

export interface LevelMeterHandle {
  set(rms: number): void;
}

/** The input level, updated straight on the DOM (10 times a second) rather than through React state. */
export const LevelMeter = forwardRef<LevelMeterHandle>(function LevelMeter(_props, ref) {
  const bar = useRef<HTMLDivElement>(null);
  useImperativeHandle(ref, () => ({
    set(rms: number) {
      // dBFS mapped to 0–100%: −60 dB (quiet room) to 0 dB (full scale)
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      const pct = Math.min(100, Math.max(0, ((db + 60) / 60) * 100));
      if (bar.current) bar.current.style.width = `${pct}%`;
    },
  }));
  return (
    <div className="level-meter" role="meter" aria-label="input level" data-testid="level-meter">
      <div ref={bar} className="level-bar" />
    </div>
  );
});

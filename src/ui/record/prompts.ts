// Sentences to read in prompted mode: short, everyday, covering most letters of the alphabet.
// Written for this app; the user can load their own list from a text file (one sentence a line).
export const BUILT_IN_PROMPTS: readonly string[] = [
  'the kettle is boiling in the kitchen',
  'please call me back after lunch',
  'my sister plays the violin every friday',
  'turn left at the second traffic light',
  'we walked along the quiet river at dawn',
  'the blue jacket is hanging behind the door',
  'could you bring two glasses of water',
  'he fixed the squeaky gate with a little oil',
  'the museum opens at nine on weekdays',
  'a fox jumped over the wet garden wall',
  'remind me to buy eggs milk and bread',
  'the train to the coast leaves in ten minutes',
  'she wrote a long letter to her grandmother',
  'the children built a snowman in the park',
  'set an alarm for half past six tomorrow',
  'the old clock on the wall stopped at noon',
  'i would like a quiet table near the window',
  'thick fog covered the valley this morning',
  'zip the bag before we go to the station',
  'the quick brown dog chased a yellow ball',
];

export function parsePromptFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * A face for a key: an adjective-noun nickname and an emoji picked by the key's fingerprint, so
 * a person tells two windows (or two peers) apart at a glance. Derived, never chosen: the same
 * key always has the same nickname, and it costs nothing to check.
 */

const ADJECTIVES = [
  "amber", "ancient", "autumn", "billowing", "bitter", "bold", "brave", "bright", "calm", "clever", "cold", "cosmic",
  "crimson", "curly", "damp", "dawn", "deep", "dry", "dusty", "eager", "early", "fading", "fancy", "fierce",
  "floral", "fragrant", "frosty", "gentle", "glad", "golden", "green", "hidden", "hollow", "humble", "icy", "jolly",
  "keen", "late", "lively", "lone", "lucky", "misty", "morning", "muddy", "noble", "odd", "patient", "plain",
  "polished", "proud", "purple", "quiet", "rapid", "red", "restless", "rough", "round", "royal", "rustic", "shy",
  "silent", "silver", "snowy", "solitary", "sparkling", "spring", "steady", "still", "summer", "sunny", "swift", "tall",
  "tidy", "tiny", "twilight", "velvet", "wandering", "warm", "weathered", "white", "wild", "winter", "wispy", "young",
];
const NOUNS = [
  "bay", "bird", "bonus", "breeze", "brook", "bush", "butterfly", "canyon", "cedar", "cherry", "cloud", "creek",
  "dew", "dream", "dune", "dust", "feather", "field", "fire", "firefly", "flower", "fog", "forest", "frog",
  "frost", "glade", "glitter", "grass", "harbor", "haze", "hill", "lake", "leaf", "meadow", "moon", "marsh",
  "mountain", "night", "oak", "ocean", "paper", "pine", "pond", "rain", "reef", "resonance", "ridge", "river",
  "sea", "shadow", "shape", "sky", "slate", "smoke", "snow", "sound", "star", "stone", "sun", "sunset",
  "surf", "thunder", "tide", "tree", "valley", "violet", "voice", "water", "wave", "wildflower", "wind", "wood",
];
const EMOJI = ["🐅", "🌻", "🦊", "🐙", "🦉", "🐢", "🐝", "🦋", "🐳", "🦔", "🐧", "🦜", "🍄", "🌵", "🌊", "🔥", "🌙", "⭐", "🍀", "🐞", "🦀", "🐺", "🦩", "🐌"];
const ASCII = ["tiger", "sunflower", "fox", "octopus", "owl", "turtle", "bee", "butterfly", "whale", "hedgehog", "penguin", "parrot", "mushroom", "cactus", "wave", "fire", "moon", "star", "clover", "ladybug", "crab", "wolf", "flamingo", "snail"];

export interface Face {
  nickname: string;
  emoji: string;
  /** The emoji's name, for terminals that cannot draw it (`[fox] noble-canyon`). */
  emoji_name: string;
}

/** From the first bytes of a fingerprint (SHA-256 of the public key), so every key has one face. */
export function faceOf(fingerprint: Uint8Array): Face {
  const n = (i: number) => (fingerprint[i]! << 8) | fingerprint[i + 1]!;
  const e = fingerprint[4]! % EMOJI.length;
  return { nickname: `${ADJECTIVES[n(0) % ADJECTIVES.length]}-${NOUNS[n(2) % NOUNS.length]}`, emoji: EMOJI[e]!, emoji_name: ASCII[e]! };
}

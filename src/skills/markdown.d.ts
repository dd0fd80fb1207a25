// The skills in .claude/skills/ are imported as text (Bun embeds them in the binary).
declare module "*.md" {
  const text: string;
  export default text;
}

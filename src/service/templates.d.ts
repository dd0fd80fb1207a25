// The service templates in deploy/ are imported as text (Bun embeds them in the binary).
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.plist" {
  const text: string;
  export default text;
}

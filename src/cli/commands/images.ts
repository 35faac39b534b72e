/**
 * `kiln images build`: builds (or finds in its cache) the micro-VM guest image: Debian's cloud
 * kernel, the boot initramfs and the read-only root with the runtimes and Kiln's agent.
 */
import type { CliContext, CommandModule } from "../context.js";
import { parseCommandArgs, rejectExtraPositionals, requirePositional, UsageError } from "../usage.js";

export const usage = `Usage: kiln images build [--cache-dir D]

Builds the micro-VM guest image used by \`kiln server --isolation microvm\` (kernel from Debian's
linux-image-cloud-amd64, a busybox initramfs that loads the virtio modules, and a read-only ext4
root holding node, python3.11 and Kiln's in-guest agent). Cached by input hash; the same inputs give
the same image hash. Prints the image's directory, key and hash; progress goes to stderr.

Options:
  --cache-dir D      where images are cached (KILN_IMAGE_CACHE, default ~/.cache/kiln/images)`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("images", argv, { "cache-dir": { type: "string" } });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const sub = requirePositional("images", positionals, 0, "subcommand (build)");
  if (sub !== "build") throw new UsageError(`unknown subcommand '${sub}' (expected: build)`, "images");
  rejectExtraPositionals("images", positionals, 1);
  const { ensureGuestImage, defaultImageCache } = await import("../../images/index.js");
  const img = await ensureGuestImage({ cacheDir: values["cache-dir"] ?? defaultImageCache(ctx.env), progress: (l) => ctx.err(l) });
  ctx.out(`${img.dir}\nkey ${img.key}\nhash ${img.hash}\nkernel ${img.kernelVersion}\n${img.built ? `built in ${(img.buildMs / 1000).toFixed(1)} s` : `cached (lookup ${img.buildMs.toFixed(0)} ms)`}`);
  return 0;
}

export default { run, usage } satisfies CommandModule;

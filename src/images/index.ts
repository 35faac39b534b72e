/**
 * images: the micro-VM guest image pipeline (`kiln images build`): a Debian cloud kernel, a boot
 * initramfs and a read-only ext4 root holding the language runtimes and Kiln's in-guest agent,
 * cached by input hash; and the ext4 disk images built per directory (function code, layers).
 *
 * Must not import: worker, assignment, frontend, api, control, store.
 */
export { ensureGuestImage, defaultImageCache, mkfsFromDir, GUEST_MODULES, KERNEL_PACKAGE, PIPELINE_VERSION, type GuestImage, type ImageBuildOptions, type MkfsOptions } from "./build.js";
export { writeCpio, type CpioEntry } from "./cpio.js";
export { dirImage, type DirImageOptions } from "./dir-image.js";

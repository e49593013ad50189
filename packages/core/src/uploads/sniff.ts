/**
 * Refusing a file on its first bytes: the content is sniffed with `file-type`
 * and compared with the config's `accept` (docs/uploads.md, "Sniffing").
 * Used by both socket uploaders and by the chunked HTTP receiver, before the
 * first chunk is written.
 */
import { extname } from 'node:path';
import { fileTypeFromBuffer, supportedExtensions, supportedMimeTypes } from 'file-type';
import { isAccepted } from './config.js';
import type { UploadEntry, UploadErrorReason } from './socket-api.js';

/** What the first bytes turned out to be. */
export interface DetectedType {
  /** file-type's extension, e.g. `'png'`, `'exe'`. */
  readonly ext: string;
  readonly mime: string;
}

/**
 * A replacement check: return a reason to refuse the entry, or nothing to
 * accept it. `detected` is undefined when file-type recognised nothing.
 */
export type SniffCheck = (
  entry: UploadEntry,
  detected: DetectedType | undefined,
  firstBytes: Buffer,
) => UploadErrorReason | undefined | void | Promise<UploadErrorReason | undefined | void>;

/** The `sniff` option of `allowUpload`: on (default), off, or a check of your own. */
export type SniffOption = boolean | SniffCheck;

/** A refusal: the entry error and its message in plain words. */
export interface SniffRefusal {
  readonly reason: UploadErrorReason;
  readonly message: string;
}

/** Most bytes handed to file-type (it needs far fewer for every format it knows). */
export const SNIFF_BYTES = 64 * 1024;

/** Formats that share a signature: bytes of one are consistent with a name of any other. */
const FAMILIES: readonly (readonly string[])[] = [
  ['zip', 'docx', 'xlsx', 'pptx', 'docm', 'xlsm', 'pptm', 'dotx', 'dotm', 'xltx', 'xltm', 'potx', 'potm', 'ppsx', 'ppsm', 'vsdx',
    'odt', 'ods', 'odp', 'odg', 'ott', 'ots', 'otp', 'otg', 'epub', 'jar', 'apk', 'xpi', '3mf', 'kmz', 'ipa', 'aar', 'whl', 'nupkg'],
  ['cfb', 'doc', 'xls', 'ppt', 'msi', 'msg', 'dot', 'xlt', 'pot', 'pps', 'vsd'],
  ['mp4', 'mov', 'm4a', 'm4v', 'm4p', 'm4b', 'm4r', '3gp', '3g2', 'f4v', 'f4p', 'f4a', 'f4b', 'mj2', 'qt'],
  ['mkv', 'webm', 'mka', 'mks', 'mk3d'],
  ['ogg', 'oga', 'ogv', 'ogx', 'ogm', 'opus', 'spx'],
  ['xml', 'svg', 'xhtml', 'rss', 'atom', 'kml', 'gpx', 'xsd', 'xsl', 'xslt', 'plist', 'xlf', 'dae'],
  ['exe', 'dll', 'sys', 'scr', 'efi', 'ocx', 'cpl'],
  ['elf', 'so', 'o', 'ko'],
  ['jpg', 'jpeg', 'jpe', 'jfif'],
  ['tif', 'tiff'],
  ['mpg', 'mpeg', 'mpe', 'm2v'],
  ['gz', 'tgz', 'gzip'],
  ['asf', 'wmv', 'wma'],
  ['ico', 'cur'],
  ['html', 'htm'],
];

const familyOf = new Map<string, readonly string[]>();
for (const f of FAMILIES) for (const ext of f) familyOf.set(ext, f);

/** Supported formats whose signature is weak or optional: no signature proves nothing for them. */
const WEAK = new Set(['xml', 'mp3', 'mp2', 'mp1', 'mpg', 'mts', 'aac', 'ac3', 'dat', 'ics', 'vcf', 'vtt', 'reg', 'tar', 'cfb', 'ico', 'cur', 'ps', 'eps']);

const PLAIN_NAMES: Record<string, string> = {
  exe: 'a Windows program', elf: 'a Linux program', macho: 'a macOS program', png: 'a PNG image', apng: 'an animated PNG image',
  jpg: 'a JPEG image', gif: 'a GIF image', webp: 'a WebP image', avif: 'an AVIF image', heic: 'a HEIC image', bmp: 'a BMP image',
  tif: 'a TIFF image', pdf: 'a PDF document', zip: 'a ZIP archive', gz: 'a gzip archive', '7z': 'a 7-Zip archive', rar: 'a RAR archive',
  mp4: 'an MP4 video', mov: 'a QuickTime video', webm: 'a WebM video', mkv: 'a Matroska video', avi: 'an AVI video', mp3: 'an MP3 file',
  wav: 'a WAV file', flac: 'a FLAC file', ogg: 'an Ogg file', docx: 'a Word document', xlsx: 'an Excel workbook', pptx: 'a PowerPoint file',
  cfb: 'an old Microsoft Office file', xml: 'an XML file', wasm: 'a WebAssembly module', sqlite: 'an SQLite database', psd: 'a Photoshop file',
};

const plain = (ext: string): string => PLAIN_NAMES[ext] ?? `a ${ext.toUpperCase()} file`;
const extOf = (name: string): string => extname(name).slice(1).toLowerCase();
const relatives = (ext: string): readonly string[] => familyOf.get(ext) ?? [ext];

/** Whether file-type has a reliable signature for files named `.ext` or typed `mime`. */
function sniffable(ext: string, mime: string): boolean {
  const exts = relatives(ext).filter((e) => supportedExtensions.has(e) && !WEAK.has(e));
  if (ext !== '' && exts.length > 0) return true;
  return mime !== '' && supportedMimeTypes.has(mime) && !mime.endsWith('xml') && !WEAK.has(ext);
}

/** Whether bytes of type `detected` agree with a file named `name` of declared `type`. */
function consistent(detected: DetectedType, name: string, type: string): boolean {
  const family = relatives(detected.ext);
  const ext = extOf(name);
  if (ext !== '' && family.includes(ext)) return true;
  return type !== '' && type.toLowerCase() === detected.mime;
}

/** Whether `detected` (or a format it cannot be told from) passes `accept`. */
function acceptedAs(accept: readonly string[], detected: DetectedType): boolean {
  if (isAccepted(accept, `file.${detected.ext}`, detected.mime)) return true;
  return relatives(detected.ext).some((ext) => isAccepted(accept, `file.${ext}`, ''));
}

/**
 * Checks an entry's first bytes against `accept`. Resolves to a refusal, or
 * undefined to go on. With `accept: 'any'` and the default check nothing is
 * refused.
 *
 * @example
 * await sniffFirstChunk({ accept: ['.png'], entry, firstBytes, sniff: true })
 * // { reason: 'not_accepted', message: '"photo.png" looks like a Windows program (.exe), which this upload does not accept.' }
 */
export async function sniffFirstChunk(args: {
  readonly accept: readonly string[] | 'any';
  readonly entry: UploadEntry;
  readonly firstBytes: Buffer;
  readonly sniff: SniffOption | undefined;
}): Promise<SniffRefusal | undefined> {
  const { accept, entry, sniff } = args;
  if (sniff === false) return undefined;
  if (sniff === undefined || sniff === true) {
    if (accept === 'any') return undefined;
  }
  const firstBytes = args.firstBytes.subarray(0, SNIFF_BYTES);
  let detected: DetectedType | undefined;
  try {
    const found = await fileTypeFromBuffer(firstBytes);
    if (found) detected = { ext: found.ext, mime: found.mime };
  } catch {
    detected = undefined; // a parser failure on hostile bytes is "nothing recognised"
  }
  if (typeof sniff === 'function') {
    const reason = await sniff(entry, detected, firstBytes);
    if (typeof reason !== 'string' || reason.length === 0) return undefined;
    return { reason, message: `"${entry.clientName}" was refused on its content (${reason}).` };
  }
  if (accept === 'any') return undefined;
  const name = entry.clientName;
  if (detected) {
    if (consistent(detected, name, entry.clientType) || acceptedAs(accept, detected)) return undefined;
    return { reason: 'not_accepted', message: `"${name}" looks like ${plain(detected.ext)} (.${detected.ext}), which this upload does not accept.` };
  }
  const ext = extOf(name);
  if (!sniffable(ext, entry.clientType.toLowerCase())) return undefined;
  const claimed = ext === '' ? `a ${entry.clientType} file` : plain(PLAIN_NAMES[ext] ? ext : (relatives(ext)[0] ?? ext));
  return { reason: 'not_accepted', message: `"${name}" is not ${claimed}: its first bytes do not match.` };
}

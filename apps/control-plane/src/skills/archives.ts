import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { SemibotError } from '@semibot/protocol';
import type { SkillFileInput } from '../store/skills.js';
import { MAX_SKILL_BYTES, MAX_SKILL_FILES } from './limits.js';

const invalid = (message: string) => new SemibotError('VALIDATION_ERROR', message, 400);

/** Files of a .tar or .tar.gz upload. Links and devices are refused, not followed. */
export async function filesFromTar(body: Buffer): Promise<SkillFileInput[]> {
  let raw = body;
  if (body[0] === 0x1f && body[1] === 0x8b) {
    try {
      raw = gunzipSync(body, { maxOutputLength: MAX_SKILL_BYTES * 2 });
    } catch (err) {
      // truncated or corrupt data, or more than the size limit once unpacked: the upload's fault
      throw invalid(`not a valid gzip archive (or larger than ${MAX_SKILL_BYTES * 2} bytes unpacked): ${(err as Error).message}`);
    }
  }
  const files: SkillFileInput[] = [];
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const fail = (msg: string) => {
        stream.resume();
        reject(invalid(msg));
      };
      if (header.type === 'directory') return stream.resume(), stream.on('end', next);
      if (header.type !== 'file') return fail(`archive entry ${header.name}: ${header.type} entries (links, devices) are not allowed`);
      if (files.length >= MAX_SKILL_FILES) return fail(`a skill has at most ${MAX_SKILL_FILES} files`);
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.push({ path: header.name, content: Buffer.concat(chunks), executable: ((header.mode ?? 0) & 0o111) !== 0 });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', (err) => reject(invalid(`not a valid tar archive: ${err.message}`)));
    Readable.from(raw).pipe(extract);
  });
  return files;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/** Files of a .zip upload. Symlinks (by their unix mode) are refused. */
export function filesFromZip(body: Buffer): Promise<SkillFileInput[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(body, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(invalid(`not a valid zip archive: ${err?.message ?? 'unknown error'}`));
      const files: SkillFileInput[] = [];
      let total = 0;
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
        if ((mode & S_IFMT) === S_IFLNK || ((mode & S_IFMT) !== 0 && (mode & S_IFMT) !== S_IFREG)) {
          zip.close();
          return reject(invalid(`archive entry ${entry.fileName}: links and special files are not allowed`));
        }
        total += entry.uncompressedSize;
        if (total > MAX_SKILL_BYTES || files.length >= MAX_SKILL_FILES) {
          zip.close();
          return reject(invalid(`a skill is at most ${MAX_SKILL_BYTES} bytes and ${MAX_SKILL_FILES} files`));
        }
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(invalid(`zip entry ${entry.fileName}: ${e?.message}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.push({ path: entry.fileName, content: Buffer.concat(chunks), executable: (mode & 0o111) !== 0 });
            zip.readEntry();
          });
          stream.on('error', (se) => reject(invalid(`zip entry ${entry.fileName}: ${se.message}`)));
        });
      });
      zip.on('end', () => resolve(files));
      zip.on('error', (ze: Error) => reject(invalid(`not a valid zip archive: ${ze.message}`)));
      zip.readEntry();
    });
  });
}

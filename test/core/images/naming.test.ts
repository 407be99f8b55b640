import { describe, expect, it } from 'vitest';
import {
  cacheFileName,
  fetchedReferenceName,
  imageUrlKind,
  isLocalPathCandidate,
  labelOnlyReferencePath,
  labelStem,
  md5Prefix,
  pyBasename,
  pySplitext,
  queryParam,
  urlParse,
} from '../../../functions/core/images/naming.ts';

const HOST = 'http://ls.example.com';

describe('reference cache naming (docs/label-studio-behaviour.md#image-naming)', () => {
  it('hashes the final URL: /image1 → 718f1d05__image1, the spec examples', () => {
    expect(md5Prefix('/image1')).toBe('718f1d05');
    expect(labelOnlyReferencePath('/image1')).toEqual({ kind: 'cache', name: '718f1d05__image1' });
    expect(labelOnlyReferencePath('http://example.com/a/b/photo%20one.JPG?sig=1')).toEqual({
      kind: 'cache',
      name: '7f310598__photo%20one.JPG',
    });
    expect(labelStem('7f310598__photo%20one.JPG')).toBe('7f310598__photo%20one');
    // The COCO fixture's relative value (docs/label-studio-behaviour.md#coco-file).
    expect(labelOnlyReferencePath('test_image1.jpg').name).toBe('235b37ac__test_image1.jpg');
    expect(cacheFileName('/image2', 'image2')).toBe('eee3b1dc__image2');
  });

  it('without a Label Studio hostname, upload/local-files/proxy/cloud URLs keep their raw basename', () => {
    expect(labelOnlyReferencePath('/data/upload/18/image1.jpg')).toEqual({ kind: 'raw', name: 'image1.jpg' });
    expect(labelOnlyReferencePath('upload/18/image1.jpg')).toEqual({ kind: 'raw', name: 'image1.jpg' });
    expect(labelOnlyReferencePath('/data/local-files/?d=dir/sub/pic.png')).toEqual({
      kind: 'raw',
      name: 'pic.png',
    });
    expect(labelOnlyReferencePath('/storage-data/uploaded/?filepath=upload/5/1.jpg')).toEqual({
      kind: 'raw',
      name: '1.jpg',
    });
    expect(labelOnlyReferencePath('s3://bucket/a/photo.jpg', { taskId: 1 })).toEqual({
      kind: 'raw',
      name: 'photo.jpg',
    });
  });

  it('with a hostname (and the token that comes with it), they get the hashed name of the URL fetched', () => {
    // /data/upload is rewritten to the storage proxy before hashing (values checked with Python's hashlib).
    expect(labelOnlyReferencePath('/data/upload/18/image1.jpg', { hostname: HOST })).toEqual({
      kind: 'cache',
      name: 'b9d86ed8__image1.jpg',
    });
    expect(
      labelOnlyReferencePath('/storage-data/uploaded/?filepath=upload/5/1.jpg', { hostname: HOST }).name,
    ).toBe('06e52cd1__1.jpg');
    expect(labelOnlyReferencePath('/data/local-files/?d=dir/sub/pic.png', { hostname: HOST }).name).toBe(
      'b50118cb__pic.png',
    );
    // Cloud URIs hash the URI itself, and need a task id to be presigned.
    expect(labelOnlyReferencePath('s3://bucket/a/photo.jpg', { hostname: HOST, taskId: 7 }).name).toBe(
      '3681e5b9__photo.jpg',
    );
    expect(labelOnlyReferencePath('s3://bucket/a/photo.jpg', { hostname: HOST }).kind).toBe('raw');
    // Found in the upload folder / local-files root: the plain basename.
    expect(
      labelOnlyReferencePath('/data/upload/18/image1.jpg', { hostname: HOST, uploadFound: true }),
    ).toEqual({
      kind: 'source',
      name: 'image1.jpg',
    });
    expect(labelOnlyReferencePath('/data/local-files/?d=dir/sub/pic.png', { localFilesFound: true })).toEqual(
      {
        kind: 'source',
        name: 'pic.png',
      },
    );
  });

  it('names fetched images as the reference names its downloads', () => {
    expect(fetchedReferenceName('http://example.com/a/b/photo%20one.JPG?sig=1')).toBe(
      '7f310598__photo%20one.JPG',
    );
    expect(fetchedReferenceName('/data/upload/18/image1.jpg')).toBe('image1.jpg');
    expect(fetchedReferenceName('s3://bucket/a/photo.jpg')).toBe('3681e5b9__photo.jpg');
    expect(fetchedReferenceName('/data/local-files/?d=dir/sub/pic.png')).toBe('ed452206__pic.png');
  });

  it('classifies URLs as the resolver does', () => {
    expect(imageUrlKind('/data/local-files/?d=a.jpg')).toBe('local-files');
    expect(imageUrlKind('/data/upload/1/a.jpg')).toBe('upload');
    expect(imageUrlKind('/upload/1/a.jpg')).toBe('upload');
    expect(imageUrlKind('gs://b/a.jpg')).toBe('cloud');
    expect(imageUrlKind('azure-blob://c/a.jpg')).toBe('cloud');
    expect(imageUrlKind('storage-data/uploaded/?filepath=x')).toBe('storage-proxy');
    expect(imageUrlKind('https://x/y.jpg')).toBe('other');
    expect(isLocalPathCandidate('/home/me/a.jpg')).toBe(true);
    expect(isLocalPathCandidate('images/a.jpg')).toBe(true);
    expect(isLocalPathCandidate('https://x/y.jpg')).toBe(false);
    expect(isLocalPathCandidate('/data/upload/1/a.jpg')).toBe(false);
  });
});

describe('Python path and URL helpers', () => {
  it('splitext and basename follow os.path', () => {
    expect(pySplitext('.bashrc')).toEqual(['.bashrc', '']);
    expect(pySplitext('a.b.c')).toEqual(['a.b', '.c']);
    expect(pySplitext('..x')).toEqual(['..x', '']);
    expect(pySplitext('a.')).toEqual(['a', '.']);
    expect(pySplitext('photo%20one.JPG?sig=1')).toEqual(['photo%20one', '.JPG?sig=1']);
    expect(pySplitext('dir.x/file')).toEqual(['dir.x/file', '']);
    expect(pyBasename('/a/b/')).toBe('');
    expect(pyBasename('/data/local-files/?d=dir/1.jpg')).toBe('1.jpg');
  });

  it('urlparse splits params, query and fragment; parse_qs decodes', () => {
    expect(urlParse('http://h/a/b.jpg;v=1?x=2#f')).toEqual({
      scheme: 'http',
      netloc: 'h',
      path: '/a/b.jpg',
      params: 'v=1',
      query: 'x=2',
      fragment: 'f',
    });
    expect(urlParse('/image1').path).toBe('/image1');
    expect(urlParse('//cdn.example.com/a.jpg')).toMatchObject({ netloc: 'cdn.example.com', path: '/a.jpg' });
    expect(queryParam('filepath=upload/5/my%20file+x.jpg&filepath=b', 'filepath')).toBe(
      'upload/5/my file x.jpg',
    );
    expect(queryParam('filepath=&x=1', 'filepath')).toBeUndefined();
  });

  it('label stems are cut to 251 code points', () => {
    const long = `${'é'.repeat(300)}.jpg`;
    expect([...labelStem(long)].length).toBe(251);
    expect(labelStem('a/b/c.d.png')).toBe('c.d');
  });
});

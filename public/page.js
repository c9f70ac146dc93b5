// The upload page: picks or drops images, queues them, and sends each with the typed client
// (clients/typescript, served from its build), showing its progress, then the stored image.
import { isImageIngestError, srcset, uploadImage } from './client/index.js';

const keyStorageName = 'image-ingest-api-key';
const settings = await fetch('page/settings.json').then((response) => response.json());

const elements = {
  dropZone: document.getElementById('drop-zone'),
  fileInput: document.getElementById('file-input'),
  queue: document.getElementById('queue'),
  announcer: document.getElementById('announcer'),
  keyForm: document.getElementById('key-form'),
  keyInput: document.getElementById('api-key'),
  keyHint: document.getElementById('key-hint'),
};

function megabytes(bytes) {
  const value = bytes / (1024 * 1024);
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function readableSize(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const allowedNames = settings.allowedTypes
  .map((type) => type.replace('image/', '').toUpperCase())
  .join(', ');

/** What each error code means to a person; the code itself is never shown alone. */
const humanMessages = {
  unsupported_image_type: `Not an allowed image type (allowed: ${allowedNames}).`,
  payload_too_large: `The image is larger than the limit of ${megabytes(settings.maxImageBytes)} MB.`,
  upload_too_large: `The image is larger than the limit of ${megabytes(settings.maxImageBytes)} MB.`,
  empty_image: 'The file is empty.',
  undecodable_image: 'The file is damaged or not a complete image.',
  too_many_pixels: 'The image has too many pixels for this service.',
  unauthorized: 'The service needs a valid API key. Enter it above and try again.',
  forbidden: 'This key may not do that.',
  rate_limited: 'Too many uploads for now. Wait a minute and try again.',
  server_busy: 'The service is busy. Try again in a moment.',
  storage_unavailable: 'The image store is unavailable right now. Try again later.',
  network_error: 'The service could not be reached. Check the connection and try again.',
  tus_unavailable: 'Resumable uploads are not available here.',
  internal_error: 'Something went wrong on the service. Try again later.',
};

function humanMessage(error) {
  if (isImageIngestError(error)) {
    return humanMessages[error.code] ?? `The upload was refused: ${error.message}`;
  }
  return 'The upload failed unexpectedly.';
}

function announce(text) {
  // Cleared first, so the same words twice are announced twice.
  elements.announcer.textContent = '';
  setTimeout(() => (elements.announcer.textContent = text), 50);
}

// --- API key: asked for only when the service needs one, kept in this tab at most ----------

function apiKey() {
  return sessionStorage.getItem(keyStorageName) ?? undefined;
}

function askForKey(reason) {
  elements.keyForm.hidden = false;
  if (reason !== undefined) elements.keyHint.textContent = reason;
  elements.keyInput.focus();
}

elements.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = elements.keyInput.value.trim();
  if (key === '') sessionStorage.removeItem(keyStorageName);
  else sessionStorage.setItem(keyStorageName, key);
  elements.keyInput.value = '';
  announce(key === '' ? 'API key cleared.' : 'API key saved for this tab.');
  elements.dropZone.focus();
});

if (settings.authRequired && apiKey() === undefined) askForKey();

// --- Picking and dropping ------------------------------------------------------------------

elements.dropZone.addEventListener('click', (event) => {
  if (event.target !== elements.fileInput) elements.fileInput.click();
});
elements.dropZone.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    elements.fileInput.click();
  }
});
elements.dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  elements.dropZone.classList.add('dragging');
});
elements.dropZone.addEventListener('dragleave', () =>
  elements.dropZone.classList.remove('dragging'),
);
elements.dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  elements.dropZone.classList.remove('dragging');
  enqueue([...(event.dataTransfer?.files ?? [])]);
});
elements.fileInput.addEventListener('change', () => {
  enqueue([...elements.fileInput.files]);
  elements.fileInput.value = '';
});

// Handlers are attached: tests (and anything else that drives the page) may start.
document.documentElement.dataset.ready = 'true';

// --- The queue: one upload at a time, in the order given -----------------------------------

const waiting = [];
let running = false;
let itemCount = 0;

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function enqueue(files) {
  if (files.length === 0) return;
  const items = files.map(createItem);
  announce(`${files.length} ${files.length === 1 ? 'file' : 'files'} queued.`);
  items[0].node.focus();
  waiting.push(...items);
  void runQueue();
}

function createItem(file) {
  const id = `upload-${++itemCount}`;
  const previewUrl = URL.createObjectURL(file);
  const progress = element('progress', { max: 100, value: 0 });
  progress.setAttribute('aria-label', `Upload progress of ${file.name}`);
  const status = element('p', { className: 'status', textContent: 'Waiting…' });
  status.setAttribute('role', 'status');
  const cancel = element('button', { type: 'button', textContent: 'Cancel', className: 'cancel' });
  cancel.setAttribute('aria-label', `Cancel ${file.name}`);
  const heading = element('h3', { id: `${id}-name`, textContent: file.name });
  const result = element('div', { className: 'result' });
  const node = element('li', { className: 'item', id, tabIndex: -1 }, [
    element('img', { className: 'preview', src: previewUrl, alt: `Preview of ${file.name}` }),
    element('div', {}, [heading, progress, status, cancel]),
    result,
  ]);
  node.setAttribute('aria-labelledby', heading.id);
  elements.queue.append(node);

  const item = { file, node, progress, status, cancel, result, controller: new AbortController() };
  cancel.addEventListener('click', () => cancelItem(item));
  return item;
}

function cancelItem(item) {
  item.controller.abort();
  const index = waiting.indexOf(item);
  if (index !== -1) {
    waiting.splice(index, 1);
    finishItem(item, 'Cancelled.', 'cancelled');
  }
}

function finishItem(item, text, kind) {
  item.status.textContent = text;
  item.status.className = `status ${kind}`;
  item.cancel.remove();
  announce(`${item.file.name}: ${text}`);
  // Focus stays on the list: the next upload's card, or this one's result.
  item.node.focus();
}

async function runQueue() {
  if (running) return;
  running = true;
  try {
    while (waiting.length > 0) await upload(waiting.shift());
  } finally {
    running = false;
  }
}

async function upload(item) {
  item.status.textContent = 'Uploading…';
  announce(`${item.file.name}: upload started.`);
  let milestone = 0;
  try {
    const image = await uploadImage(item.file, {
      apiKey: apiKey(),
      signal: item.controller.signal,
      onProgress: ({ loaded, total }) => {
        if (total === undefined || total === 0) return;
        const percent = Math.floor((loaded / total) * 100);
        item.progress.value = percent;
        item.status.textContent = `Uploading… ${percent}%`;
        // Milestones only: a screen reader reading every percent is noise.
        if (percent >= milestone + 25 && percent < 100) {
          milestone = percent - (percent % 25);
          announce(`${item.file.name}: ${milestone}% uploaded.`);
        }
      },
    });
    item.progress.value = 100;
    showResult(item, image);
    finishItem(item, 'Uploaded.', 'done');
  } catch (error) {
    if (item.controller.signal.aborted) {
      finishItem(item, 'Cancelled.', 'cancelled');
      return;
    }
    if (isImageIngestError(error) && error.code === 'unauthorized') {
      askForKey('The service refused the key (or needs one). Enter an API key.');
    }
    finishItem(item, humanMessage(error), 'error');
  }
}

function showResult(item, image) {
  const facts = [
    ['Type', image.contentType],
    ['Size', `${image.width} × ${image.height} pixels`],
    ['File size', readableSize(image.bytes)],
  ];
  if (image.frames !== undefined) facts.push(['Frames', String(image.frames)]);
  const list = element(
    'dl',
    {},
    facts.flatMap(([term, value]) => [
      element('dt', { textContent: term }),
      element('dd', { textContent: value }),
    ]),
  );
  if (image.placeholder !== undefined) {
    const swatch = element('span', { className: 'swatch' });
    swatch.style.background = image.placeholder.color;
    list.append(
      element('dt', { textContent: 'Placeholder colour' }),
      element('dd', {}, [swatch, ` ${image.placeholder.color}`]),
    );
  }
  const link = element('a', { href: image.url, textContent: 'Open the stored image' });
  // Through its renditions: the browser picks the width this layout needs at this screen's
  // density (page.css shows it at most 20rem wide), in AVIF or WebP where it takes them.
  // `src` is `display`, not `url`: a HEIC original is shown only by Safari, its display
  // rendition by all.
  const stored = element('img', {
    className: 'stored',
    sizes: '(max-width: 40rem) 100vw, 20rem',
    srcset: srcset(image),
    src: image.display.url,
    alt: `${item.file.name} as stored`,
    width: image.display.width,
    height: image.display.height,
  });
  item.result.append(stored, list, link);
  const variants = Object.entries(image.variants ?? {});
  if (variants.length > 0) {
    item.result.append(
      element('h4', { textContent: 'Variants' }),
      element(
        'div',
        { className: 'variants' },
        variants.map(([name, variant]) =>
          element('figure', {}, [
            element('img', { src: variant.url, alt: `${name} variant` }),
            element('figcaption', {
              textContent: `${name}: ${variant.width} × ${variant.height}, ${readableSize(variant.bytes)}`,
            }),
          ]),
        ),
      ),
    );
  }
}

/** A real 1 x 1 PNG (90 bytes) as a data URI: the service accepts it as it stands. */
export const examplePngDataUri =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADElEQVQImWMwTpsJAAICATMDms/iAAAAAElFTkSuQmCC';

export const exampleImage = {
  id: '3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60',
  name: '3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png',
  url: 'https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png',
  contentType: 'image/png',
  extension: 'png',
  bytes: 90,
  sha256: '5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b',
  width: 1,
  height: 1,
  orientation: 1,
  createdAt: '2026-12-01T12:00:00.000Z',
  // A PNG is shown as it is: its display is the original.
  display: {
    url: 'https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png',
    width: 1,
    height: 1,
    contentType: 'image/png',
  },
};

export const exampleCreatedImage = {
  ...exampleImage,
  deleteToken: 'b3JkaW5hcnktZGVsZXRlLXRva2VuLWV4YW1wbGU',
};

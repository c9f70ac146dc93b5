/**
 * How a staged object (a direct upload, a tus piece) is labelled, whatever the client says it
 * is: a bucket that grants allUsers read (uniform access: bucket-wide, IAM Conditions cannot
 * narrow allUsers) would otherwise serve a staged HTML or SVG page as such from the bucket's
 * domain to whoever has its name. As a download it renders nothing. GCS_STAGING_BUCKET, a
 * private bucket, keeps staged objects unreadable altogether.
 */
export const stagedObjectHeaders = {
  contentType: 'application/octet-stream',
  contentDisposition: 'attachment',
} as const;

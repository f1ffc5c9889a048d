"""Large inputs through object storage: a CSV uploaded to a presigned URL, read by the processor in pages.

`models` holds what a job keeps of its upload (`UploadState`), `ports` the object store (`BlobStore`: S3
deployed, files under the state directory on a laptop). docs/uploads.md tells the whole path.
"""

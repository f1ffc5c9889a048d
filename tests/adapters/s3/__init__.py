"""The S3 object store (uploads and exports) on moto."""

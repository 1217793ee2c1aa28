"""Uploaded documents and their content-addressed blobs (tenant schemas)."""

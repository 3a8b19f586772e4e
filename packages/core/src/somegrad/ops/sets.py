"""Searching, counting and set ops: unique, searchsorted, bucketize, bincount, histc, isin, kthvalue, ..."""

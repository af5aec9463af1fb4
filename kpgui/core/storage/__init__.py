"""What is kept on disk: the SQLite store, the one atomic save path, samples files, the data
folders, shipped resources, files chosen by the user, bounded reading of untrusted files."""

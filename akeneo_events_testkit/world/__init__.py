"""The world both profiles describe: a seeded catalog, its structure and values, and the activity on it."""

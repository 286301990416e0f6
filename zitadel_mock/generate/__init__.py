"""Generated populations: options, the population (the only importer of Faker), the file writer."""

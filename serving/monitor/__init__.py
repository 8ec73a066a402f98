"""The claim monitor: watched claims and incoming documents kept in a database, each document matched to the
claims it touches by embeddings before the stance model reads the pair, and every answer stored with the model that
gave it."""

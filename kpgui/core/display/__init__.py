"""What is said and shown: messages for people, words, run names, plot ranges."""

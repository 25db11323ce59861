package sr3

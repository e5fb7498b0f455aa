package main

import "context"

func (r *runner) runMemory(ctx context.Context) {}

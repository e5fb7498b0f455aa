package main

import "context"

func (r *runner) runRemote(ctx context.Context) {}

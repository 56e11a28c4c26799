package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

func (a *app) queuesCommand() *cobra.Command {
	return group("queues", "Inspect, pause and resume the provider queues",
		listCommand("List the provider queues: depth by state, oldest age, throughput and limiter state", a,
			func(ctx context.Context) ([]client.Queue, error) { return a.client.ListQueues(ctx) },
			renderQueues),
		a.queueActionCommand("pause", "Stop workers from taking new jobs off a queue", true),
		a.queueActionCommand("resume", "Let workers take jobs off a paused queue again", false),
	)
}

func (a *app) queueActionCommand(name, short string, pause bool) *cobra.Command {
	return &cobra.Command{
		Use:   name + " NAME",
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			do := a.client.ResumeQueue
			if pause {
				do = a.client.PauseQueue
			}
			q, err := do(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.show(q, func(w io.Writer) error { return renderQueues(w, []client.Queue{*q}) })
		},
	}
}

func (a *app) providersCommand() *cobra.Command {
	return group("providers", "Inspect the providers",
		listCommand("Show the providers: enabled, task types, limits, remaining, circuit and cooldown", a,
			func(ctx context.Context) ([]map[string]any, error) { return a.client.ListProviders(ctx) },
			renderProviders),
	)
}

func (a *app) modelsCommand() *cobra.Command {
	return group("models", "Inspect the routable models",
		listCommand("List the models and the provider that serves each", a,
			func(ctx context.Context) ([]electrons.Model, error) { return a.client.ListModels(ctx) },
			renderModels),
	)
}

// listCommand is a `list` subcommand showing what fetch returns, as a table or,
// with -o json, as the API's {"data": […]}.
func listCommand[T any](short string, a *app, fetch func(context.Context) ([]T, error), table func(io.Writer, []T) error) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, err := fetch(cmd.Context())
			if err != nil {
				return err
			}
			if items == nil {
				items = []T{}
			}
			return a.show(client.Page[T]{Data: items}, func(w io.Writer) error { return table(w, items) })
		},
	}
}

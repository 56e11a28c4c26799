package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distributed-electrons/electrons/api/client"
)

func (a *app) webhooksCommand() *cobra.Command {
	create := &cobra.Command{
		Use:   "create URL",
		Short: "Subscribe to events; the secret that signs them is shown once",
		Args:  exactArgs(1),
	}
	var events, description string
	create.Flags().StringVar(&events, "event-types", "", "comma-separated event types (default: all)")
	create.Flags().StringVar(&description, "description", "", "what the subscription is for")
	create.RunE = func(cmd *cobra.Command, args []string) error {
		in := client.CreateWebhook{URL: args[0], Description: description}
		if events != "" {
			in.EventTypes = strings.Split(events, ",")
		}
		wh, err := a.client.CreateWebhook(cmd.Context(), in)
		if err != nil {
			return err
		}
		return a.show(wh, func(w io.Writer) error {
			if err := renderWebhooks(w, []client.Webhook{*wh}); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "\nsecret (shown only now):\n%s\n", wh.Secret)
			return err
		})
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a subscription; its pending deliveries are dropped",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.client.DeleteWebhook(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(a.stdout, "deleted %s\n", args[0])
			return err
		},
	}
	return group("webhooks", "Manage the instance's webhook subscriptions",
		listCommand("List the subscriptions", a,
			func(ctx context.Context) ([]client.Webhook, error) { return a.client.ListWebhooks(ctx) },
			renderWebhooks),
		create, del)
}

func (a *app) deliveriesCommand() *cobra.Command {
	var status, entity string
	list := &cobra.Command{
		Use:   "list",
		Short: "List webhook deliveries, newest first (--status dead for the dead letters)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, err := a.client.ListDeliveries(cmd.Context(), status, entity)
			if err != nil {
				return err
			}
			if ds == nil {
				ds = []client.Delivery{}
			}
			return a.show(client.Page[client.Delivery]{Data: ds}, func(w io.Writer) error { return renderDeliveries(w, ds) })
		},
	}
	list.Flags().StringVar(&status, "status", "", "pending, succeeded or dead")
	list.Flags().StringVar(&entity, "entity", "", "only deliveries about this request or batch id")
	replay := &cobra.Command{
		Use:   "replay ID",
		Short: "Send a dead (or succeeded) delivery again, with the same webhook-id",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.client.ReplayDelivery(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.show(d, func(w io.Writer) error { return renderDeliveries(w, []client.Delivery{*d}) })
		},
	}
	return group("deliveries", "Inspect and replay webhook deliveries", list, replay)
}

func renderWebhooks(w io.Writer, ws []client.Webhook) error {
	tw := newTable(w)
	row(tw, "ID", "URL", "EVENTS", "ENABLED", "REASON")
	for _, wh := range ws {
		row(tw, wh.ID, wh.URL, strings.Join(wh.EventTypes, ","), strconv.FormatBool(wh.Enabled), wh.DisabledReason)
	}
	return tw.Flush()
}

func renderDeliveries(w io.Writer, ds []client.Delivery) error {
	tw := newTable(w)
	row(tw, "ID", "EVENT", "ENTITY", "STATUS", "ATTEMPTS", "LAST", "URL")
	for _, d := range ds {
		last := ""
		if d.LastStatusCode != nil {
			last = strconv.Itoa(*d.LastStatusCode)
		} else if d.LastError != nil {
			last = *d.LastError
		}
		row(tw, d.ID, d.EventType, d.EntityID, d.Status, strconv.Itoa(d.Attempts), last, d.URL)
	}
	return tw.Flush()
}
